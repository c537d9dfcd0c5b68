"""GetAccountSettings and the tagging API (TestLambdaAccountSettings, TestLambdaTags in the recorded data)."""

from helpers import TAGS_ON_QUALIFIED, expect_client_error, function_arn, not_found_message, py_zip, unique

OK = "def handler(event, context):\n    return event\n"


def test_account_settings_shape(lam, functions):
    before = lam.get_account_settings()
    assert before["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(before["AccountLimit"]) == {
        "CodeSizeUnzipped", "CodeSizeZipped", "ConcurrentExecutions", "TotalCodeSize", "UnreservedConcurrentExecutions",
    }  # fmt: skip
    assert set(before["AccountUsage"]) == {"FunctionCount", "TotalCodeSize"}
    limit = before["AccountLimit"]
    assert limit["CodeSizeUnzipped"] == 262144000
    assert limit["CodeSizeZipped"] == 52428800
    assert limit["TotalCodeSize"] == 80530636800
    assert all(isinstance(v, int) for v in limit.values())
    assert 0 < limit["UnreservedConcurrentExecutions"] <= limit["ConcurrentExecutions"]

    code = py_zip(OK)
    functions.create(code)
    after = lam.get_account_settings()["AccountUsage"]
    assert after["FunctionCount"] >= 1
    assert after["FunctionCount"] >= before["AccountUsage"]["FunctionCount"]
    assert after["TotalCodeSize"] >= len(code)


def test_tag_lifecycle(lam, functions):
    name = unique("tags")
    functions.create(py_zip(OK), name=name, Tags={"key_a": "value_a"})
    arn = function_arn(name)
    assert lam.get_function(FunctionName=name)["Tags"] == {"key_a": "value_a"}
    assert lam.list_tags(Resource=arn)["Tags"] == {"key_a": "value_a"}

    r = lam.tag_resource(Resource=arn, Tags={"key_b": "value_b", "key_c": "value_c"})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"key_a": "value_a", "key_b": "value_b", "key_c": "value_c"}

    lam.tag_resource(Resource=arn, Tags={"key_c": "value_x"})
    assert lam.list_tags(Resource=arn)["Tags"]["key_c"] == "value_x"
    assert lam.get_function(FunctionName=name)["Tags"] == {"key_a": "value_a", "key_b": "value_b", "key_c": "value_x"}

    r = lam.untag_resource(Resource=arn, TagKeys=["key_a", "key_b"])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"key_c": "value_x"}
    r = lam.untag_resource(Resource=arn, TagKeys=["not-there"])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.untag_resource(Resource=arn, TagKeys=["key_c"])
    assert lam.list_tags(Resource=arn)["Tags"] == {}


def test_tag_errors(lam, functions):
    name = functions.python(OK)
    arn = function_arn(name)
    for qualified in (f"{arn}:$LATEST", f"{arn}:1"):
        expect_client_error(
            lambda: lam.tag_resource(Resource=qualified, Tags={"a": "b"}),
            "InvalidParameterValueException",
            400,
            message=TAGS_ON_QUALIFIED,
            exc_class=lam.exceptions.InvalidParameterValueException,
        )
    missing = unique("notag")
    for call in (
        lambda: lam.tag_resource(Resource=function_arn(missing), Tags={"a": "b"}),
        lambda: lam.list_tags(Resource=function_arn(missing)),
        lambda: lam.untag_resource(Resource=function_arn(missing), TagKeys=["a"]),
    ):
        expect_client_error(
            call, "ResourceNotFoundException", 404, message=not_found_message(missing),
            exc_class=lam.exceptions.ResourceNotFoundException,
        )  # fmt: skip
    assert lam.list_tags(Resource=arn)["Tags"] == {}

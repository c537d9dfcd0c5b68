"""Control-plane errors: boto3 must raise the typed exception with AWS's status code and message.

Messages come from test_lambda_api.snapshot.json / test_lambda.snapshot.json (recorded on AWS) unless a
comment says otherwise.
"""

import base64
import json

import pytest
from botocore.exceptions import ClientError

from helpers import (
    PY,
    REVISION_MISMATCH,
    ROLE,
    expect_client_error,
    function_arn,
    not_found_message,
    py_zip,
    raw_json,
    unique,
)

OK_HANDLER = "def handler(event, context):\n    return event\n"
ENV_TOO_LARGE = (
    "Lambda was unable to configure your environment variables because the environment variables you have "
    "provided exceeded the 4KB limit. String measured: "
)
RUNTIME_ENUM_PREFIX = "Value {} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: ["
NAME_PATTERN_PREFIX = (
    "1 validation error detected: Value 'my-function!' at 'functionName' failed to satisfy constraint: "
    "Member must satisfy regular expression pattern: "
)


@pytest.fixture
def fn(functions):
    return functions.python(OK_HANDLER)


# ------------------------------------------------------------------------------------------
# ResourceNotFoundException
# ------------------------------------------------------------------------------------------


def test_unknown_function_get_invoke_delete(lam):
    name = unique("nope")
    rnf = lam.exceptions.ResourceNotFoundException
    for call, message in [
        (lambda: lam.get_function(FunctionName=name), not_found_message(name)),
        (lambda: lam.get_function_configuration(FunctionName=name), not_found_message(name)),
        (lambda: lam.delete_function(FunctionName=name), not_found_message(name)),
        # Invoke names the qualifier it resolved (TestLambdaFeatures::test_invoke_exceptions).
        (lambda: lam.invoke(FunctionName=name, Payload=b"{}"), not_found_message(name, "$LATEST")),
        (lambda: lam.update_function_configuration(FunctionName=name, Timeout=5), not_found_message(name)),
    ]:
        err = expect_client_error(call, "ResourceNotFoundException", 404, message=message, exc_class=rnf)
        assert err.response.get("Type") == "User"


def test_unknown_version_qualifier(lam, fn):
    expect_client_error(
        lambda: lam.get_function(FunctionName=fn, Qualifier="1221"),
        "ResourceNotFoundException",
        404,
        message=not_found_message(fn, "1221"),
    )


# ------------------------------------------------------------------------------------------
# Create/update validation
# ------------------------------------------------------------------------------------------


def test_duplicate_create_is_a_conflict(lam, functions, fn):
    err = expect_client_error(
        lambda: functions.create(py_zip(OK_HANDLER), name=fn),
        "ResourceConflictException",
        409,
        message=f"Function already exist: {fn}",
        exc_class=lam.exceptions.ResourceConflictException,
    )
    assert err.response.get("Type") == "User"


def test_memory_and_timeout_out_of_range(lam, functions, endpoint):
    # 20000 MB passes botocore's model (max 32768, for Managed Instances) but not the standard 128–10240 range.
    # The recorded data has no example of these two messages, so only the class of error is asserted.
    for kwargs in ({"MemorySize": 20000}, {"MemorySize": 10241}, {"Timeout": 901}):
        with pytest.raises(ClientError) as info:
            functions.create(py_zip(OK_HANDLER), **kwargs)
        err = info.value.response
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400, (kwargs, err)
        assert err["Error"]["Code"] in ("ValidationException", "InvalidParameterValueException"), (kwargs, err)
    # Below the minimum: botocore refuses these itself, so send them raw.
    for field, value in (("MemorySize", 100), ("Timeout", 0)):
        body = {
            "FunctionName": unique("raw"), "Runtime": PY, "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(py_zip(OK_HANDLER)).decode()}, field: value,
        }  # fmt: skip
        resp = raw_json(endpoint, "POST", "/2015-03-31/functions", body)
        if resp.status == 201:
            functions.track(body["FunctionName"])
        assert resp.status == 400, (field, value, resp)
        assert resp.headers.get("x-amzn-errortype") in ("ValidationException", "InvalidParameterValueException"), resp
    # The boundaries themselves are valid.
    name = functions.python(OK_HANDLER, MemorySize=10240, Timeout=900)
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["MemorySize"], cfg["Timeout"]) == (10240, 900)


def test_reserved_environment_key(lam, functions, fn):
    message = (
        "Lambda was unable to configure your environment variables because the environment variables you have "
        "provided contains reserved keys that are currently not supported for modification. "
        "Reserved keys used in this request: AWS_REGION"
    )
    for call in (
        lambda: functions.create(py_zip(OK_HANDLER), Environment={"Variables": {"AWS_REGION": "eu-west-1"}}),
        lambda: lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"AWS_REGION": "x"}}),
    ):
        expect_client_error(
            call, "InvalidParameterValueException", 400, message=message,
            exc_class=lam.exceptions.InvalidParameterValueException,
        )  # fmt: skip


def test_environment_larger_than_4kb(lam, functions):
    # Exactly the recorded cases: 4097 bytes of JSON fail, 4096 succeed (TestLambdaSizeLimits).
    big = {"LARGE_VAR": "x" * 4081}
    measured = json.dumps(big, separators=(",", ":"))
    assert len(measured) == 4097
    expect_client_error(
        lambda: functions.create(py_zip(OK_HANDLER), Environment={"Variables": big}),
        "InvalidParameterValueException",
        400,
        message=ENV_TOO_LARGE + measured,
        exc_class=lam.exceptions.InvalidParameterValueException,
    )
    two = {"SMALL_VAR": "ok", "LARGE_VAR": "x" * 4064}
    expect_client_error(
        lambda: functions.create(py_zip(OK_HANDLER), Environment={"Variables": two}),
        "InvalidParameterValueException",
        400,
        message=ENV_TOO_LARGE + json.dumps(two, separators=(",", ":")),
    )
    fits = {"LARGE_VAR": "x" * 4080}
    created = functions.create(py_zip(OK_HANDLER), Environment={"Variables": fits})
    assert created["Environment"] == {"Variables": fits}


def test_deprecated_runtime(lam, functions, fn):
    message = (
        "The runtime parameter of python3.7 is no longer supported for creating or updating AWS Lambda functions. "
        "We recommend you use a supported runtime while creating or updating functions."
    )
    expect_client_error(
        lambda: functions.create(py_zip(OK_HANDLER), runtime="python3.7"),
        "InvalidParameterValueException",
        400,
        message=message,
        exc_class=lam.exceptions.InvalidParameterValueException,
    )
    expect_client_error(
        lambda: lam.update_function_configuration(FunctionName=fn, Runtime="python3.7"),
        "InvalidParameterValueException",
        400,
        message=message,
    )


def test_unknown_runtime(lam, functions):
    for runtime in ("non-existent-runtime", "PYTHON3.9"):
        err = expect_client_error(
            lambda: functions.create(py_zip(OK_HANDLER), runtime=runtime),
            "InvalidParameterValueException",
            400,
            message_prefix=RUNTIME_ENUM_PREFIX.format(runtime),
            exc_class=lam.exceptions.InvalidParameterValueException,
        )
        message = err.response["Error"]["Message"]
        assert message.endswith("] or be a valid ARN"), message
        assert "python3.12" in message and "nodejs20.x" in message


def test_name_validation(lam, functions):
    long_name = "a" * 65
    expect_client_error(
        lambda: functions.create(py_zip(OK_HANDLER), name=long_name),
        "InvalidParameterValueException",
        400,
        message=f"1 validation error detected: Value '{long_name}' at 'functionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64",
        exc_class=lam.exceptions.InvalidParameterValueException,
    )
    # Reading a too-long name is just "not found" (test_function_name_and_qualifier_validation).
    expect_client_error(
        lambda: lam.get_function(FunctionName=long_name), "ResourceNotFoundException", 404,
        message=not_found_message(long_name),
    )  # fmt: skip
    # Invalid characters: ValidationException, which botocore does not model (a plain ClientError).
    err = expect_client_error(
        lambda: functions.create(py_zip(OK_HANDLER), name="my-function!"),
        "ValidationException",
        400,
        message_prefix=NAME_PATTERN_PREFIX,
    )
    assert type(err).__name__ == "ClientError"
    expect_client_error(
        lambda: lam.invoke(FunctionName="my-function!", Payload=b"{}"),
        "ValidationException",
        400,
        message_prefix=NAME_PATTERN_PREFIX,
    )


def test_stale_revision_id_is_a_failed_precondition(lam, fn):
    stale = lam.get_function(FunctionName=fn)["Configuration"]["RevisionId"]
    lam.update_function_configuration(FunctionName=fn, Description="moves the revision on")
    for call in (
        lambda: lam.update_function_configuration(FunctionName=fn, Timeout=9, RevisionId=stale),
        lambda: lam.update_function_code(FunctionName=fn, ZipFile=py_zip(OK_HANDLER + "\n"), RevisionId=stale),
    ):
        expect_client_error(
            call, "PreconditionFailedException", 412, message=REVISION_MISMATCH,
            exc_class=lam.exceptions.PreconditionFailedException,
        )  # fmt: skip
    # The current revision works.
    current = lam.get_function(FunctionName=fn)["Configuration"]["RevisionId"]
    updated = lam.update_function_configuration(FunctionName=fn, Timeout=9, RevisionId=current)
    assert updated["Timeout"] == 9


# ------------------------------------------------------------------------------------------
# Invoke request errors
# ------------------------------------------------------------------------------------------


def test_invoke_with_non_json_payload(lam, fn):
    for bad in (b"this is not json", b"{\"a\": ", b"n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt"):
        expect_client_error(
            lambda: lam.invoke(FunctionName=fn, Payload=bad),
            "InvalidRequestContentException",
            400,
            message_prefix="Could not parse request body into json: Could not parse payload into json: ",
            exc_class=lam.exceptions.InvalidRequestContentException,
        )


def test_qualifiers(lam, fn):
    r = lam.invoke(FunctionName=fn, Qualifier="$LATEST", Payload=b'{"q":1}')
    assert r["StatusCode"] == 200 and r["ExecutedVersion"] == "$LATEST"
    r = lam.invoke(FunctionName=f"{fn}:$LATEST", Payload=b'{"q":2}')
    assert json.loads(r["Payload"].read()) == {"q": 2}
    for call in (
        lambda: lam.invoke(FunctionName=fn, Qualifier="1", Payload=b"{}"),
        lambda: lam.invoke(FunctionName=f"{fn}:1", Payload=b"{}"),
    ):
        expect_client_error(
            call, "ResourceNotFoundException", 404, message=not_found_message(fn, "1"),
            exc_class=lam.exceptions.ResourceNotFoundException,
        )  # fmt: skip
    # A qualifier in the name that disagrees with the Qualifier parameter (test_ops_with_arn_qualifier_mismatch).
    expect_client_error(
        lambda: lam.get_function(FunctionName=f"{function_arn(fn)}:1", Qualifier="$LATEST"),
        "InvalidParameterValueException",
        400,
        message="The derived qualifier from the function name does not match the specified qualifier.",
    )

"""Resource-based policies (issue #12): AddPermission, GetPolicy, RemovePermission through unmodified boto3.

Golden data: /tmp/recorded-http.json (real AWS responses; keys test_lambda_api.py::TestLambdaPermissions and
TestLambdaRevisions): statement shapes, conditions, principals, errors and their messages, RevisionId preconditions,
policies per version and alias. The recordings use account 111111111111; Nimbus's default account is 000000000000.
"""

import json
import os
from unittest import mock

import pytest

from helpers import ACCOUNT, REGION, UUID_RE, expect_client_error, function_arn, py_zip, unique
from http_helpers import client, public_url, send
from servers import SandboxServer

HANDLER = """
def handler(event, context):
    return {"version": context.function_version}
"""

NO_RESOURCE = "The resource you requested does not exist."
NO_POLICY = "No policy is associated with the given resource."
QUALIFIER_MISMATCH = "The derived qualifier from the function name does not match the specified qualifier."
LATEST_POLICY = "We currently do not support adding policies for $LATEST."
BAD_PRINCIPAL = "The provided principal was invalid. Please check the principal and try again."
# AWS words a failed RevisionId precondition on policies in two ways (test_lambda_permission_revisions records the
# GetFunction/GetAlias wording, test_lambda_permission_fn_versioning and test_function_revisions_permissions the
# GetPolicy one); both are AWS's answer, so either passes.
REVISION_MESSAGES = {
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetPolicy API to retrieve the latest Revision Id",
}
BUCKET_ARN = "arn:aws:s3:::test-bucket"
STATEMENT_KEYS = ["Sid", "Effect", "Principal", "Action", "Resource"]


def conflict_message(sid):
    return (f"The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the "
            "existing statement.")


def statement(response):
    """AddPermission's Statement (a JSON string on the wire), checked for AWS's key order."""
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    text = response["Statement"]
    assert isinstance(text, str)
    parsed = json.loads(text)
    expected_order = STATEMENT_KEYS + (["Condition"] if "Condition" in parsed else [])
    assert list(parsed) == expected_order, f"statement keys in AWS's order {expected_order}, got {list(parsed)}"
    return parsed


def policy(lam, name, qualifier=None):
    params = {"FunctionName": name}
    if qualifier:
        params["Qualifier"] = qualifier
    response = lam.get_policy(**params)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert UUID_RE.match(response["RevisionId"]), response["RevisionId"]
    document = json.loads(response["Policy"])
    assert list(document) == ["Version", "Id", "Statement"], list(document)
    assert (document["Version"], document["Id"]) == ("2012-10-17", "default")
    return document["Statement"], response["RevisionId"]


@pytest.fixture(scope="module")
def versioned(lam):
    """One function with version 1 and the alias `live` → 1, shared by the read-mostly tests of this module."""
    name = unique("pol")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
                        Handler="app.handler", Code={"ZipFile": py_zip(HANDLER)})
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except Exception:
        pass


# ------------------------------------------------------------------------------------------
# Statement shapes (test_add_lambda_permission_aws, test_add_lambda_permission_fields, test_remove_multi_permissions)
# ------------------------------------------------------------------------------------------


def test_statements_are_recorded_as_aws_records_them(lam, functions, endpoint):
    name = functions.python(HANDLER)
    arn = function_arn(name)
    expect_client_error(lambda: lam.get_policy(FunctionName=name), "ResourceNotFoundException", 404, NO_RESOURCE)
    expect_client_error(lambda: lam.remove_permission(FunctionName=name, StatementId="s3"),
                        "ResourceNotFoundException", 404, NO_POLICY)

    caller_arn = client("sts", endpoint).get_caller_identity()["Arn"]
    cases = [
        (dict(StatementId="s3", Principal="s3.amazonaws.com", SourceArn=BUCKET_ARN),
         {"Principal": {"Service": "s3.amazonaws.com"}, "Condition": {"ArnLike": {"AWS:SourceArn": BUCKET_ARN}}}),
        (dict(StatementId="wilcard", Principal="*", SourceAccount=ACCOUNT),
         {"Principal": "*", "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}}),
        (dict(StatementId="lambda", Principal="lambda.amazonaws.com", SourceAccount=ACCOUNT),
         {"Principal": {"Service": "lambda.amazonaws.com"},
          "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}}),
        # A bare account id becomes the account's root ARN.
        (dict(StatementId="account-id", Principal=ACCOUNT), {"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}),
        (dict(StatementId="user-arn", Principal=caller_arn, SourceAccount=ACCOUNT),
         {"Principal": {"AWS": caller_arn}, "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}}),
        (dict(StatementId="alexaSkill", Principal="*", EventSourceToken="amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx"),
         {"Principal": "*", "Condition": {"StringEquals": {"lambda:EventSourceToken": "amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx"}}}),
    ]
    expected = []
    for params, shape in cases:
        got = statement(lam.add_permission(FunctionName=name, Action="lambda:InvokeFunction", **params))
        want = {"Sid": params["StatementId"], "Effect": "Allow", "Principal": shape["Principal"],
                "Action": "lambda:InvokeFunction", "Resource": arn}
        if "Condition" in shape:
            want["Condition"] = shape["Condition"]
        assert got == want
        expected.append(want)

    # Every optional condition at once (add_permission_optional_fields).
    got = statement(lam.add_permission(
        FunctionName=name, StatementId="urlPermission", Action="lambda:InvokeFunctionUrl", Principal="*",
        SourceArn=BUCKET_ARN, SourceAccount=ACCOUNT, PrincipalOrgID="o-1234567890", FunctionUrlAuthType="NONE"))
    want = {"Sid": "urlPermission", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
            "Resource": arn, "Condition": {
                "StringEquals": {"AWS:SourceAccount": ACCOUNT, "lambda:FunctionUrlAuthType": "NONE",
                                 "aws:PrincipalOrgID": "o-1234567890"},
                "ArnLike": {"AWS:SourceArn": BUCKET_ARN}}}
    assert got == want
    assert list(got["Condition"]) == ["StringEquals", "ArnLike"]
    expected.append(want)

    statements, revision = policy(lam, name)
    assert statements == expected, "GetPolicy lists the statements in the order they were added"

    # A duplicate statement id is a conflict and changes nothing.
    expect_client_error(
        lambda: lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                                   Principal="sqs.amazonaws.com"),
        "ResourceConflictException", 409, conflict_message("s3"))
    assert policy(lam, name) == (expected, revision)

    # Unknown statement id on remove: AWS names it; the policy is unchanged.
    expect_client_error(lambda: lam.remove_permission(FunctionName=name, StatementId="non-existent"),
                        "ResourceNotFoundException", 404, "Statement non-existent is not found in resource policy.")
    assert policy(lam, name) == (expected, revision)

    removed = lam.remove_permission(FunctionName=name, StatementId="s3")
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    after, after_revision = policy(lam, name)
    assert after == expected[1:]
    assert after_revision != revision, "removing a statement gives the policy a new RevisionId"

    for sid in [s["Sid"] for s in after]:
        lam.remove_permission(FunctionName=name, StatementId=sid)
    expect_client_error(lambda: lam.get_policy(FunctionName=name), "ResourceNotFoundException", 404, NO_RESOURCE)


def test_invoke_function_url_statement_for_public_urls(lam, functions):
    """The statement the console (and the AWS CLI's documented command) adds for a NONE URL, as recorded in
    TestLambdaURL::test_lambda_url_invocation."""
    name = functions.python(HANDLER)
    got = statement(lam.add_permission(FunctionName=name, StatementId="urlPermission", Principal="*",
                                       Action="lambda:InvokeFunctionUrl", FunctionUrlAuthType="NONE"))
    assert got == {"Sid": "urlPermission", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
                   "Resource": function_arn(name),
                   "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}


# ------------------------------------------------------------------------------------------
# Errors (test_permission_exceptions)
# ------------------------------------------------------------------------------------------


def test_permission_errors_match_aws(lam, versioned):
    name = versioned
    base = dict(Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", SourceArn=BUCKET_ARN)

    def add(**kwargs):
        params = {**base, "FunctionName": name, "StatementId": "s3", **kwargs}
        return lambda: lam.add_permission(**{k: v for k, v in params.items() if v is not None})

    expect_client_error(
        add(StatementId="example.com"), "ValidationException", 400,
        "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
    expect_client_error(add(FunctionName=f"{name}:alias-not-42", Qualifier="42"), "InvalidParameterValueException",
                        400, QUALIFIER_MISMATCH)
    expect_client_error(add(FunctionName=f"{name}:$LATEST", Qualifier="$LATEST"), "InvalidParameterValueException",
                        400, LATEST_POLICY)
    # The recorded request: a service-like principal that is not an AWS service (AWS checks a list of services).
    expect_client_error(add(StatementId="lambda", Principal="invalid.nonaws.com", SourceArn=None, SourceAccount=ACCOUNT),
                        "InvalidParameterValueException", 400, BAD_PRINCIPAL)
    expect_client_error(add(FunctionName="doesnotexist"), "ResourceNotFoundException", 404,
                        f"Function not found: {function_arn('doesnotexist')}")
    expect_client_error(add(FunctionName=f"{name}:alias-doesnotexist"), "ResourceNotFoundException", 404,
                        f"Cannot find alias arn: {function_arn(name, 'alias-doesnotexist')}")
    expect_client_error(add(Qualifier="42"), "ResourceNotFoundException", 404,
                        f"Function not found: {function_arn(name, '42')}")
    expect_client_error(
        add(Qualifier="invalid-qualifier-with-?-char"), "ValidationException", 400,
        "1 validation error detected: Value 'invalid-qualifier-with-?-char' at 'qualifier' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")
    expect_client_error(add(Qualifier="valid-with-$-but-doesnotexist"), "ResourceNotFoundException", 404,
                        f"Function not found: {function_arn(name, 'valid-with-$-but-doesnotexist')}")

    expect_client_error(lambda: lam.get_policy(FunctionName="doesnotexist"), "ResourceNotFoundException", 404,
                        NO_RESOURCE)
    expect_client_error(lambda: lam.get_policy(FunctionName=name, Qualifier="77"), "ResourceNotFoundException", 404,
                        NO_RESOURCE)
    expect_client_error(lambda: lam.remove_permission(FunctionName="doesnotexist", StatementId="s3"),
                        "ResourceNotFoundException", 404, f"No policy found for: {function_arn('doesnotexist')}")
    expect_client_error(
        lambda: lam.remove_permission(FunctionName=name, StatementId="s3", Qualifier="alias-doesnotexist"),
        "ResourceNotFoundException", 404, f"Cannot find alias arn: {function_arn(name, 'alias-doesnotexist')}")


# ------------------------------------------------------------------------------------------
# Versions and aliases (test_lambda_permission_fn_versioning, test_lambda_permission_versioning)
# ------------------------------------------------------------------------------------------


def test_each_version_and_alias_has_its_own_policy(lam, functions):
    name = functions.python(HANDLER)
    arn = function_arn(name)
    base = dict(Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", SourceArn=BUCKET_ARN)
    statement(lam.add_permission(FunctionName=name, StatementId="s3", **base))
    unqualified, revision = policy(lam, name)
    assert [s["Resource"] for s in unqualified] == [arn]

    # Publishing does not copy the policy to the new version.
    lam.publish_version(FunctionName=name)
    assert policy(lam, name) == (unqualified, revision)
    expect_client_error(lambda: lam.get_policy(FunctionName=name, Qualifier="1"), "ResourceNotFoundException", 404,
                        NO_RESOURCE)

    on_version = statement(lam.add_permission(FunctionName=name, StatementId="s3", Qualifier="1", **base))
    assert on_version["Resource"] == function_arn(name, "1")
    assert [s["Sid"] for s in policy(lam, name, "1")[0]] == ["s3"]

    lam.create_alias(FunctionName=name, Name="permission-alias", FunctionVersion="1")
    expect_client_error(lambda: lam.get_policy(FunctionName=name, Qualifier="permission-alias"),
                        "ResourceNotFoundException", 404, NO_RESOURCE)
    # A qualified ARN as the function name works like Qualifier.
    on_alias = statement(lam.add_permission(FunctionName=function_arn(name, "permission-alias"), StatementId="s3",
                                            **base))
    assert on_alias["Resource"] == function_arn(name, "permission-alias")
    alias_statements, _ = policy(lam, name, "permission-alias")
    assert [s["Resource"] for s in alias_statements] == [function_arn(name, "permission-alias")]

    # The same Sid may exist once per qualifier; $LATEST's policy is untouched by the others.
    statement(lam.add_permission(FunctionName=name, StatementId="s3_2", **base))
    assert [s["Sid"] for s in policy(lam, name)[0]] == ["s3", "s3_2"]
    assert [s["Sid"] for s in policy(lam, name, "1")[0]] == ["s3"]

    # Removing from the alias leaves the function's and the version's statements.
    lam.remove_permission(FunctionName=name, StatementId="s3", Qualifier="permission-alias")
    expect_client_error(lambda: lam.get_policy(FunctionName=name, Qualifier="permission-alias"),
                        "ResourceNotFoundException", 404, NO_RESOURCE)
    assert [s["Sid"] for s in policy(lam, name)[0]] == ["s3", "s3_2"]
    assert [s["Sid"] for s in policy(lam, name, "1")[0]] == ["s3"]


# ------------------------------------------------------------------------------------------
# RevisionId preconditions (test_lambda_permission_revisions, test_function_revisions_permissions)
# ------------------------------------------------------------------------------------------


def test_revision_id_preconditions(lam, functions):
    name = functions.python(HANDLER)
    base = dict(FunctionName=name, Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", SourceArn=BUCKET_ARN)

    def precondition_failed(call):
        err = expect_client_error(call, "PreconditionFailedException", 412)
        assert err.response["Error"]["Message"] in REVISION_MESSAGES, err.response["Error"]

    precondition_failed(lambda: lam.add_permission(StatementId="s3", RevisionId="00000000-0000-0000-0000-000000000000",
                                                   **base))
    expect_client_error(lambda: lam.get_policy(FunctionName=name), "ResourceNotFoundException", 404, NO_RESOURCE)

    statement(lam.add_permission(StatementId="s3", **base))
    _, revision = policy(lam, name)
    # The RevisionId GetPolicy returned is the precondition for the next change.
    statement(lam.add_permission(StatementId="s3_2", RevisionId=revision, **base))
    statements, newer = policy(lam, name)
    assert [s["Sid"] for s in statements] == ["s3", "s3_2"]
    assert newer != revision
    precondition_failed(lambda: lam.add_permission(StatementId="s3_3", RevisionId=revision, **base))
    precondition_failed(lambda: lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=revision))
    assert policy(lam, name) == (statements, newer), "a failed precondition changes nothing"
    lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=newer)
    assert [s["Sid"] for s in policy(lam, name)[0]] == ["s3_2"]


def test_deleting_a_function_deletes_its_policies(lam, functions):
    name = functions.python(HANDLER)
    statement(lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                                 Principal="s3.amazonaws.com"))
    lam.delete_function(FunctionName=name)
    functions.names.remove(name)
    functions.python(HANDLER, name=name)
    expect_client_error(lambda: lam.get_policy(FunctionName=name), "ResourceNotFoundException", 404, NO_RESOURCE)


# ------------------------------------------------------------------------------------------
# Persistence
# ------------------------------------------------------------------------------------------


class RestartableServer(SandboxServer):
    """A process-tier server that may start again on the data directory of a previous one."""

    def start(self, limit=60.0):
        real = os.makedirs
        with mock.patch.object(os, "makedirs", lambda path, *a, **k: real(path, exist_ok=True)):
            return super().start(limit)


def test_policies_and_function_urls_survive_a_restart(tmp_path):
    root = tmp_path / "restart"
    first = RestartableServer(root, "policy-restart", "--sandbox", "process").start()
    try:
        lam = client("lambda", first.endpoint)
        name = unique("persist")
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
                            Handler="app.handler", Code={"ZipFile": py_zip(HANDLER)})
        statement(lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                                     Principal="s3.amazonaws.com", SourceArn=BUCKET_ARN))
        url, host, _, _ = public_url(lam, name)
        before = policy(lam, name)
        config = lam.get_function_url_config(FunctionName=name)
    finally:
        problems = first.stop()
    assert not problems, problems

    second = RestartableServer(root, "policy-restart-2", "--sandbox", "process").start()
    try:
        lam = client("lambda", second.endpoint)
        statements, revision = policy(lam, name)
        assert (statements, revision) == before
        again = lam.get_function_url_config(FunctionName=name)
        for key in ("AuthType", "FunctionArn", "CreationTime", "InvokeMode"):
            assert again[key] == config[key], key
        # The URL keeps its id; only the port of the new server differs.
        old_id = url.split("//", 1)[1].split(".", 1)[0]
        assert again["FunctionUrl"] == f"http://{old_id}.lambda-url.{REGION}.localhost:{second.port}/"
        response = send(second.port, f"{old_id}.lambda-url.{REGION}.localhost:{second.port}", "GET", "/")
        assert response.status == 200, response
        assert response.json() == {"version": "$LATEST"}
    finally:
        problems = second.stop()
    assert not problems, problems

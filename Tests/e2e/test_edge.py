"""The service edge (issue #11) end to end: SigV4 with unmodified boto3 and raw signed requests, STS, credentials and
an endpoint inside sandboxes, and bad input at the edge.

The module starts its own server with `--auth sigv4` in the default tier (the Linux sandbox where the host has it,
network egress); a function tagged `nimbus:network=none` runs in a namespace with loopback only. Functions call
other functions, STS and CloudWatch Logs through boto3 with no endpoint and no keys in their code: the endpoint and
temporary credentials come from the environment, as on Lambda. Only 127.0.0.1 is contacted.
"""

import datetime
import http.client
import json
import os
import socket
import subprocess
import uuid
from unittest import mock

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import ACCOUNT, PY, REGION, ROLE, make_zip
from servers import IN_CI, SandboxServer, _nimbus_bin

ENDPOINT_IN_SANDBOX = "http://127.0.0.1:9002"

CHAIN_A = """
import json, os
import boto3

def handler(event, context):
    out = {"endpoint": os.environ.get("AWS_ENDPOINT_URL"), "region": os.environ.get("AWS_REGION"),
           "key": os.environ.get("AWS_ACCESS_KEY_ID"), "secret": os.environ.get("AWS_SECRET_ACCESS_KEY"),
           "token": os.environ.get("AWS_SESSION_TOKEN")}
    lam = boto3.client("lambda")
    r = lam.invoke(FunctionName=event["next"], Payload=json.dumps({"hop": 1}).encode())
    out["next"] = json.loads(r["Payload"].read())
    out["identity"] = boto3.client("sts").get_caller_identity()
    out["identity"].pop("ResponseMetadata", None)
    groups = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    out["groups"] = [g["logGroupName"] for g in groups]
    try:
        boto3.client("lambda", aws_access_key_id="AKIAFORGED000000000", aws_secret_access_key="x",
                     aws_session_token=None).list_functions()
        out["forged"] = "accepted"
    except Exception as e:
        out["forged"] = getattr(e, "response", {}).get("Error", {}).get("Code", repr(e))
    import urllib.request, urllib.error
    try:
        urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/_nimbus/health", timeout=5)
        out["admin"] = "reachable"
    except urllib.error.HTTPError as e:
        out["admin"] = e.code
    return out
"""

CHAIN_B = """
def handler(event, context):
    return {"hop": event.get("hop", 0) + 1, "function": context.function_name}
"""


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory):
    server = SandboxServer(tmp_path_factory.mktemp("edge-sigv4"), "sigv4", "--auth", "sigv4").start()
    yield server
    problems = server.stop()
    assert not problems, problems


@pytest.fixture(scope="module")
def operator(signed_server):
    return signed_server.printed_key()


@pytest.fixture(scope="module")
def lam(signed_server, operator):
    return signed_server.client("lambda", *operator)


def client_error(call):
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error.get("Message", "")


def signed_request(endpoint, method, path, body=b"", service="lambda", key="k", secret="s", when=None,
                   headers=None, region=REGION):
    """(status, headers, body) of a request signed by botocore's own SigV4 signer, at `when` if given."""
    url = endpoint + path
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = SigV4Auth(Credentials(key, secret), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
            signer.add_auth(request)
    return send(endpoint, method, path, body, dict(request.headers.items()))


def send(endpoint, method, path, body=b"", headers=None, timeout=30):
    host, port = endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


# ------------------------------------------------------------------------------------------
# SigV4 from outside
# ------------------------------------------------------------------------------------------


def test_the_printed_key_works_and_sts_names_the_account(signed_server, operator, lam):
    key, secret = operator
    assert key.startswith("AKIA") and len(key) == 20 and len(secret) == 40
    assert lam.list_functions()["Functions"] == []
    identity = signed_server.client("sts", key, secret).get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert identity["UserId"] == ACCOUNT
    data_dir_key = json.load(open(os.path.join(signed_server.data_dir, "credentials.json")))
    assert data_dir_key["accessKeyID"] == key
    assert os.stat(os.path.join(signed_server.data_dir, "credentials.json")).st_mode & 0o777 == 0o600


def test_a_wrong_secret_is_refused(signed_server, operator):
    key, _ = operator
    status, code, message = client_error(lambda: signed_server.client("lambda", key, "wrong" * 8).list_functions())
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match the signature you provided.")
    status, code, _ = client_error(lambda: signed_server.client("sts", key, "wrong" * 8).get_caller_identity())
    assert (status, code) == (403, "SignatureDoesNotMatch")


def test_an_unknown_key_is_refused(signed_server):
    status, code, message = client_error(
        lambda: signed_server.client("lambda", "AKIAUNKNOWN000000000", "x" * 40).list_functions())
    assert (status, code) == (403, "UnrecognizedClientException")
    assert message == "The security token included in the request is invalid."
    status, code, _ = client_error(
        lambda: signed_server.client("sts", "AKIAUNKNOWN000000000", "x" * 40).get_caller_identity())
    assert (status, code) == (403, "InvalidClientTokenId")


@pytest.mark.parametrize("minutes", [-16, 16])
def test_a_skewed_clock_is_refused(signed_server, operator, minutes):
    key, secret = operator
    when = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(minutes=minutes)
    status, headers, body = signed_request(
        signed_server.endpoint, "GET", "/2015-03-31/functions", key=key, secret=secret, when=when)
    assert status == 403, body
    assert headers["x-amzn-errortype"].startswith("InvalidSignatureException")
    assert b"Signature expired" in body or b"Signature not yet current" in body, body
    # Within the 15 minutes it passes.
    status, _, body = signed_request(
        signed_server.endpoint, "GET", "/2015-03-31/functions", key=key, secret=secret,
        when=when - datetime.timedelta(minutes=minutes - (1 if minutes > 0 else -1)))
    assert status == 200, body


def test_a_missing_signature_is_refused(signed_server):
    status, headers, body = send(signed_server.endpoint, "GET", "/2015-03-31/functions")
    assert status == 403, body
    assert headers["x-amzn-errortype"].startswith("MissingAuthenticationToken")
    status, _, body = send(signed_server.endpoint, "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15",
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (400, 403), body
    assert b"<Code>MissingAuthenticationToken</Code>" in body, body


def test_a_tampered_body_is_refused(signed_server, operator):
    key, secret = operator
    body = json.dumps({"FunctionName": "x", "Tags": {"a": "b"}}).encode()
    request = AWSRequest(method="POST", url=signed_server.endpoint + "/2017-03-31/tags/x", data=body,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), "lambda", REGION).add_auth(request)
    tampered = body.replace(b'"b"', b'"c"')
    status, headers, response = send(signed_server.endpoint, "POST", "/2017-03-31/tags/x", tampered,
                                     dict(request.headers.items()))
    assert status == 403, response
    assert headers["x-amzn-errortype"].startswith("InvalidSignatureException")


@pytest.mark.parametrize("authorization", [
    "AWS4-HMAC-SHA256", "Bearer abc", "AWS4-HMAC-SHA256 " + "," * 10_000,
    "AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/lambda/aws4_request",
    "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=zz", "\u00ff" * 100,
])
def test_garbage_authorization_headers_get_a_clean_error(signed_server, lam, authorization):
    status, headers, body = send(signed_server.endpoint, "GET", "/2015-03-31/functions",
                                 headers={"Authorization": authorization.encode("latin-1").decode("latin-1")})
    assert 400 <= status < 500, body
    assert "x-amzn-errortype" in headers
    assert lam.list_functions()["Functions"] is not None


def test_a_non_loopback_address_needs_sigv4(tmp_path):
    proc = subprocess.run(
        [_nimbus_bin(), "serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert "--auth sigv4" in proc.stderr + proc.stdout


# ------------------------------------------------------------------------------------------
# Functions calling AWS services
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain(signed_server, lam):
    names = []

    def create(source, **kwargs):
        name = f"edge-{uuid.uuid4().hex[:10]}"
        lam.create_function(
            FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler", Timeout=60, MemorySize=1769,
            Code={"ZipFile": make_zip({"app.py": source})}, **kwargs)
        names.append(name)
        return name

    yield create
    for name in names:
        try:
            lam.delete_function(FunctionName=name)
        except ClientError:
            pass


def run_chain(signed_server, lam, chain, **kwargs):
    if "linux" not in signed_server.isolation_line():
        if IN_CI:
            pytest.fail(f"CI runs the Linux sandbox: {signed_server.isolation_line()}")
    b = chain(CHAIN_B)
    a = chain(CHAIN_A, **kwargs)
    response = lam.invoke(FunctionName=a, Payload=json.dumps({"next": b}).encode())
    out = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, out
    return a, b, out


@pytest.mark.parametrize("network", ["egress", "none"])
def test_a_function_calls_functions_sts_and_logs_through_boto3(signed_server, lam, chain, network):
    tags = {"nimbus:network": network} if network != "egress" else {}
    a, b, out = run_chain(signed_server, lam, chain, Tags=tags)
    assert out["next"] == {"hop": 2, "function": b}
    assert out["region"] == REGION
    role_name = ROLE.rsplit("/", 1)[1]
    assert out["identity"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{a}"
    assert out["identity"]["Account"] == ACCOUNT
    assert out["identity"]["UserId"].endswith(f":{a}")
    assert f"/aws/lambda/{b}" in out["groups"]
    assert out["key"].startswith("ASIA") and out["token"]
    # Inside, only the environment's own keys are accepted, and the admin routes do not exist: the path is then only
    # S3's (a bucket named `_nimbus`), refused to an unsigned caller.
    assert out["forged"] in ("UnrecognizedClientException", "InvalidSignatureException"), out["forged"]
    assert out["admin"] in (403, 404), out["admin"]
    if "linux" in signed_server.isolation_line():
        assert out["endpoint"] == ENDPOINT_IN_SANDBOX


def test_a_deleted_functions_keys_are_refused(signed_server, lam, chain):
    a, _, out = run_chain(signed_server, lam, chain)
    sts = signed_server.client("sts", out["key"], out["secret"], token=out["token"])
    assert sts.get_caller_identity()["Arn"].endswith(f"/{a}")
    lam.delete_function(FunctionName=a)
    status, code, _ = client_error(sts.get_caller_identity)
    assert (status, code) == (403, "InvalidClientTokenId")
    # A temporary key without its session token is refused as well.
    other = signed_server.client("lambda", out["key"], out["secret"])
    status, code, _ = client_error(other.list_functions)
    assert status == 403


# ------------------------------------------------------------------------------------------
# Bad input at the edge (the session's server: --auth none)
# ------------------------------------------------------------------------------------------


def test_unknown_targets_services_and_malformed_bodies_get_clean_errors(endpoint, lam):
    status, headers, body = send(endpoint, "POST", "/", b"{}", {
        "X-Amz-Target": "Logs_20140328.NoSuchOperation", "Content-Type": "application/x-amz-json-1.1"})
    assert status in (400, 404) and b"UnknownOperation" in body, body
    status, headers, body = send(endpoint, "POST", "/", b"{}", {
        "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host, Signature=00"})
    assert status == 400 and b"dynamodb" in body, body
    status, headers, body = send(endpoint, "POST", "/", b"{not json", {
        "X-Amz-Target": "Logs_20140328.DescribeLogGroups", "Content-Type": "application/x-amz-json-1.1"})
    assert status == 400 and b"SerializationException" in body, body
    status, headers, body = send(endpoint, "POST", "/service/GraniteServiceVersion20100801/operation/PutMetricData",
                                 b"\xbf\xff\x00garbage", {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
    assert 400 <= status < 500, body
    status, headers, body = send(endpoint, "POST", "/", b"Action=%ZZ&Version=2011-06-15&&&==",
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= status < 500, body
    status, headers, body = send(endpoint, "POST", "/2015-03-31/functions", b"<xml>", {"Content-Type": "application/xml"})
    assert status == 400, body
    assert lam.list_functions()["Functions"] is not None


def test_huge_headers_are_refused_and_the_server_keeps_serving(endpoint, lam):
    host, port = endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            chunk = b"a" * 65536
            while sent < 10 * 1024 * 1024:
                s.sendall(chunk)
                sent += len(chunk)
            s.sendall(b"\r\n\r\n")
            reply = s.recv(4096)
        except OSError:
            reply = b""  # the server closed the connection: also a refusal
    assert reply == b"" or reply.split(b" ")[1][:1] in (b"4", b"5"), reply[:200]
    assert lam.list_functions()["Functions"] is not None


def test_sts_answers_the_anonymous_caller_with_the_servers_account(endpoint):
    import boto3

    sts = boto3.client("sts", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                       aws_secret_access_key="test")
    identity = sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    # A 12-digit access key id names the account (LocalStack's convention).
    other = boto3.client("sts", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="123456789012",
                         aws_secret_access_key="test")
    assert other.get_caller_identity()["Account"] == "123456789012"


# ------------------------------------------------------------------------------------------
# Regions and accounts from the request
# ------------------------------------------------------------------------------------------

REGION_PROBE = """
import os
def handler(event, context):
    return {"region": os.environ["AWS_REGION"], "arn": context.invoked_function_arn,
            "group": os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]}
"""


def test_the_same_name_in_two_regions_and_two_accounts_is_three_functions(endpoint):
    import boto3

    name = f"ns-{uuid.uuid4().hex[:10]}"
    places = [("us-east-1", "test"), ("us-west-2", "test"), ("us-west-2", "123456789012")]
    clients = {}
    for region, key in places:
        clients[(region, key)] = {
            service: boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
                                  aws_secret_access_key="test")
            for service in ("lambda", "logs", "sts")
        }
    account_of = {key: ("123456789012" if key == "123456789012" else ACCOUNT) for _, key in places}
    try:
        for (region, key), c in clients.items():
            arn = f"arn:aws:lambda:{region}:{account_of[key]}:function:{name}"
            created = c["lambda"].create_function(
                FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler",
                Code={"ZipFile": make_zip({"app.py": REGION_PROBE})}, Tags={"place": f"{region}/{key}"})
            assert created["FunctionArn"] == arn
            assert c["sts"].get_caller_identity()["Account"] == account_of[key]
        for (region, key), c in clients.items():
            arn = f"arn:aws:lambda:{region}:{account_of[key]}:function:{name}"
            got = c["lambda"].get_function(FunctionName=name)
            assert got["Configuration"]["FunctionArn"] == arn
            assert got["Tags"] == {"place": f"{region}/{key}"}, "another namespace's function answered"
            out = json.loads(c["lambda"].invoke(FunctionName=name)["Payload"].read())
            assert out == {"region": region, "arn": arn, "group": f"/aws/lambda/{name}"}
            listed = [f["FunctionArn"] for f in c["lambda"].list_functions()["Functions"] if f["FunctionName"] == name]
            assert listed == [arn]
        # Limits are per account and region: a reservation in one namespace leaves the others' pools alone.
        east = clients[("us-east-1", "test")]["lambda"]
        west = clients[("us-west-2", "test")]["lambda"]
        before = west.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
        east.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=50)
        assert east.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == before - 50
        assert west.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == before
        assert "Concurrency" not in west.get_function(FunctionName=name)
        # Logs live in their namespace too.
        for (region, key), c in clients.items():
            def streams():
                try:
                    return c["logs"].describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
                except ClientError:
                    return None
            from helpers import poll
            found = poll(streams, timeout=20, what=f"the log streams in {region}/{key}")
            assert len(found) == 1, found
            assert f":{region}:{account_of[key]}:" in found[0]["arn"]
        # Deleting one leaves the others.
        clients[("us-west-2", "123456789012")]["lambda"].delete_function(FunctionName=name)
        assert west.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
        with pytest.raises(ClientError):
            clients[("us-west-2", "123456789012")]["lambda"].get_function(FunctionName=name)
    finally:
        for c in clients.values():
            try:
                c["lambda"].delete_function(FunctionName=name)
            except ClientError:
                pass

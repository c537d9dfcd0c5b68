"""Helpers for the HTTP-trigger end-to-end tests (issue #12): function URLs, API Gateway HTTP APIs, resource policies.

Function URLs are `http://<url-id>.lambda-url.<region>.localhost:<port>/` and HTTP APIs
`http://<api-id>.execute-api.localhost:<port>/<stage>/…`, both routed by the Host header. `*.localhost` may not
resolve on the test machine, so every request connects to 127.0.0.1:<port> and sets Host to the URL's host: that is
exactly what a browser or `curl --resolve` sends. Nothing here contacts another address, and every wait is bounded.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from helpers import ACCOUNT, REGION, poll

# AWS's answer to a NONE-auth function URL whose resource policy does not allow lambda:InvokeFunctionUrl
# (recorded: TestLambdaPermissions::test_lambda_permission_url_invocation, and 403 + x-amzn-ErrorType
# AccessDeniedException in TestLambdaURL::test_lambda_url_persists_after_alias_delete).
URL_FORBIDDEN = {
    "Message": "Forbidden. For troubleshooting Function URL authorization issues, see: "
    "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"
}

# AWS's function-URL id: 32 lower-case letters and digits (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
# shows `<url-id>.lambda-url.<region>.on.aws`; real ids are 32 characters of [a-z0-9]).
URL_RE = re.compile(r"^http://(?P<id>[a-z0-9]{32})\.lambda-url\.(?P<region>[a-z0-9-]+)\.localhost:(?P<port>\d+)/$")
ISO_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
# requestContext.time in payload 2.0 and requestTime in 1.0: `12/Mar/2020:19:03:58 +0000`.
CLF_TIME_RE = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
TRACE_ID_RE = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}")


def client(service, endpoint, key="test", secret="test", region=REGION):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=120, connect_timeout=10),
    )


def port_of(endpoint):
    parsed = urllib.parse.urlparse(endpoint)
    assert parsed.hostname == "127.0.0.1", endpoint
    return parsed.port


# ------------------------------------------------------------------------------------------
# Raw HTTP with a Host header
# ------------------------------------------------------------------------------------------


class HttpResponse:
    """status, headers (lower-case name → value, repeated names joined with ', '), header_list (every pair as sent),
    body (bytes)."""

    def __init__(self, status, header_list, body):
        self.status = status
        self.header_list = [(k.lower(), v) for k, v in header_list]
        self.headers = {}
        for k, v in self.header_list:
            self.headers[k] = f"{self.headers[k]}, {v}" if k in self.headers else v
        self.body = body

    def all(self, name):
        return [v for k, v in self.header_list if k == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<HttpResponse {self.status} {self.headers} {self.body[:400]!r}>"


def send(port, host, method, path, body=None, headers=None, timeout=60, connection=None):
    """One request to 127.0.0.1:port with `Host: host`. `headers` is a dict or a list of pairs (for repeated
    names). Uses `connection` (kept open) if given."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if not any(k.lower() == "host" for k, _ in pairs):
            pairs.insert(0, ("Host", host))
        if body is not None and not any(k.lower() == "content-length" for k, _ in pairs):
            pairs.append(("Content-Length", str(len(body))))
        for k, v in pairs:
            conn.putheader(k, v)
        conn.endheaders(body)
        response = conn.getresponse()
        return HttpResponse(response.status, response.getheaders(), response.read())
    finally:
        if connection is None:
            conn.close()


def url_parts(function_url):
    """(host header value, url id, port) of a function URL as CreateFunctionUrlConfig prints it."""
    m = URL_RE.match(function_url)
    assert m, f"FunctionUrl {function_url!r} is not http://<32 × [a-z0-9]>.lambda-url.<region>.localhost:<port>/"
    parsed = urllib.parse.urlparse(function_url)
    return parsed.netloc, m.group("id"), int(m.group("port"))


def api_host(api_id, port):
    return f"{api_id}.execute-api.localhost:{port}"


def signed_headers(method, host, path, body=b"", key="test", secret="test", region=REGION, service="lambda",
                   headers=None, token=None):
    """Headers of a request signed by botocore's own SigV4 signer for http://host/path (the Host header included)."""
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    out = dict(request.headers.items())
    out["Host"] = host
    return out


# ------------------------------------------------------------------------------------------
# Functions and their URLs
# ------------------------------------------------------------------------------------------

# One function answers every function-URL test: it records each invocation (a file per request id in $OUT_DIR, so a
# test can tell whether the platform answered without invoking it) and replies according to `x-mode`.
ECHO_SOURCE = r'''
import base64, json, os, time

VERSION_TAG = "v1"

def handler(event, context):
    out = os.environ.get("OUT_DIR")
    if out:
        path = os.path.join(out, context.aws_request_id + ".json")
        with open(path + ".tmp", "w") as f:
            json.dump(event, f)
        os.rename(path + ".tmp", path)
    headers = event.get("headers") or {}
    mode = headers.get("x-mode", "echo") if isinstance(headers, dict) else "echo"
    if mode == "raise":
        raise RuntimeError("the function failed on purpose")
    if mode == "return":
        return json.loads(base64.b64decode(headers["x-value"]).decode())
    if mode == "sleep":
        time.sleep(float(headers.get("x-seconds", "1")))
    if mode == "binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if mode == "cookies":
        return {"statusCode": 201, "headers": {"Content-Type": "text/plain", "X-Custom": "yes"},
                "cookies": ["a=1; Path=/", "b=2; Max-Age=60"], "body": "with cookies"}
    if mode == "cors-override":
        return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://evil.example"}, "body": "x"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"event": event, "requestId": context.aws_request_id, "tag": VERSION_TAG,
                                "version": context.function_version})}
'''


def invocations(out_dir):
    """The request ids the echo function recorded in out_dir."""
    return sorted(f[:-5] for f in os.listdir(out_dir) if f.endswith(".json"))


def allow_public_url(lam, name, qualifier=None, sid="FunctionURLAllowPublicAccess"):
    """The statement AWS's console adds for a NONE function URL (recorded in test_lambda_url_invocation)."""
    params = dict(FunctionName=name, StatementId=sid, Action="lambda:InvokeFunctionUrl", Principal="*",
                  FunctionUrlAuthType="NONE")
    if qualifier:
        params["Qualifier"] = qualifier
    return lam.add_permission(**params)


def public_url(lam, name, qualifier=None, cors=None, auth="NONE", permit=True, **extra):
    """Creates a function URL (and for NONE the public statement); returns (url, host header, url id, port)."""
    params = dict(FunctionName=name, AuthType=auth, **extra)
    if qualifier:
        params["Qualifier"] = qualifier
    if cors is not None:
        params["Cors"] = cors
    created = lam.create_function_url_config(**params)
    if permit and auth == "NONE":
        allow_public_url(lam, name, qualifier)
    host, url_id, port = url_parts(created["FunctionUrl"])
    return created["FunctionUrl"], host, url_id, port


def event_of(response):
    """The payload-2.0 event the echo function saw, from its default reply."""
    assert response.status == 200, response
    return response.json()["event"]


# ------------------------------------------------------------------------------------------
# Environments
# ------------------------------------------------------------------------------------------


def concurrency_of(endpoint, name):
    port = port_of(endpoint)
    response = send(port, f"127.0.0.1:{port}", "GET", "/_nimbus/concurrency")
    assert response.status == 200, response
    return response.json()["Functions"].get(name, {"ConcurrentExecutions": 0, "Throttles": 0})


def log_streams(logs, name):
    """Every log stream of the function (one per execution environment, as on Lambda)."""
    streams, token = [], None
    for _ in range(1000):
        params = {"logGroupName": f"/aws/lambda/{name}"}
        if token:
            params["nextToken"] = token
        try:
            page = logs.describe_log_streams(**params)
        except logs.exceptions.ResourceNotFoundException:
            return []
        streams += page["logStreams"]
        token = page.get("nextToken")
        if not token:
            break
    return streams


def settle(endpoint, name, timeout=30):
    """Waits (bounded) until no invocation of `name` runs."""
    poll(lambda: concurrency_of(endpoint, name)["ConcurrentExecutions"] == 0, timeout=timeout,
         what=f"{name} to have no running invocation")


# ------------------------------------------------------------------------------------------
# Tools
# ------------------------------------------------------------------------------------------


def curl():
    """curl's path, or a skip: the tests use curl where it is installed (scripts/test.sh does not install it)."""
    path = shutil.which("curl")
    if not path:
        pytest.skip("curl is not installed (apt-get install curl)")
    return path


def get_with_curl_or_http(host, port, path, method="GET", body=None, content_type=None):
    """(status, body) by curl if installed, else by http.client: for tests whose subject is not curl itself."""
    if shutil.which("curl"):
        extra = ["-X", method]
        if body is not None:
            extra += ["--data-binary", body.decode()]
        if content_type:
            extra += ["-H", f"content-type: {content_type}"]
        status, _, payload = curl_get(host, port, path, extra=extra)
        return status, payload
    headers = {"content-type": content_type} if content_type else None
    response = send(port, host, method, path, body=body, headers=headers)
    return response.status, response.body


def curl_get(host, port, path, extra=(), host_header=False):
    """curl http://host{path} with --resolve pinning the host to 127.0.0.1 (as the README tells users to), or with
    host_header to http://127.0.0.1:port{path} and `-H "Host: host"`."""
    bare = host.rsplit(":", 1)[0]
    if host_header:
        target = ["-H", f"Host: {host}", f"http://127.0.0.1:{port}{path}"]
    else:
        target = ["--resolve", f"{bare}:{port}:127.0.0.1", f"http://{host}{path}"]
    proc = subprocess.run([curl(), "-sS", "-i", "--max-time", "30", *extra, *target], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    head, _, body = proc.stdout.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode(errors="replace"), body


def execute_api_arn(api_id, rest="*"):
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{rest}"


def deadline(seconds):
    end = time.monotonic() + seconds
    return lambda: time.monotonic() < end

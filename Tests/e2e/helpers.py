"""Helpers shared by the end-to-end tests: zips, raw HTTP, the AWS CLI, bounded polling.

Everything here talks only to 127.0.0.1 and every wait is bounded in time and count.
"""

import base64
import hashlib
import http.client
import io
import json
import os
import re
import shutil
import stat
import subprocess
import time
import urllib.parse
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
PY = "python3.12"
NODE = "nodejs20.x"

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# CI checks out shared/ next to the repository; the golden data lives there.
AWS_RECORDED = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "aws-recorded"))

LAST_MODIFIED_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LOG_STREAM_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
REPORT_RE = re.compile(
    r"REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: (?P<mem>\d+) MB\tMax Memory Used: \d+ MB\t"
)

INVOKE_TOO_LARGE = "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
RESPONSE_TOO_LARGE = {
    "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    "errorType": "Function.ResponseSizeTooLarge",
}
UNZIP_ERROR = "Could not unzip uploaded file. Please check your file, then try to upload again."
REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)
TAGS_ON_QUALIFIED = "Tags on function aliases and versions are not supported. Please specify a function ARN."


def unique(prefix="fn"):
    """A function name unique to this test run (well under the 64-character limit)."""
    return f"e2e-{prefix}-{uuid.uuid4().hex[:12]}"


def function_arn(name, qualifier=None):
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def not_found_message(name, qualifier=None):
    return f"Function not found: {function_arn(name, qualifier)}"


# ------------------------------------------------------------------------------------------
# Zips
# ------------------------------------------------------------------------------------------


def make_zip(files, symlinks=None):
    """files: {name: str | bytes | (content, mode)}; symlinks: {name: target}. Returns the zip bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            if isinstance(content, str):
                content = content.encode()
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix, so that the mode bits are honoured
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


def py_zip(source, module="app", extra=None):
    files = {f"{module}.py": source}
    files.update(extra or {})
    return make_zip(files)


def node_zip(source, module="index"):
    return make_zip({f"{module}.js": source})


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# ------------------------------------------------------------------------------------------
# Invoke helpers
# ------------------------------------------------------------------------------------------


def payload_bytes(response):
    return response["Payload"].read()


def payload_json(response):
    return json.loads(payload_bytes(response))


def header(response, name):
    return response["ResponseMetadata"]["HTTPHeaders"].get(name.lower())


def log_tail(response):
    return base64.b64decode(response["LogResult"]).decode("utf-8", "replace")


def b64json(obj):
    return base64.b64encode(json.dumps(obj).encode()).decode()


def _short(text, keep=160):
    """Long messages (e.g. the 4 KB environment one) shortened for assertion output, keeping both ends."""
    if len(text) <= 2 * keep + 20:
        return text
    return f"{text[:keep]}…<{len(text) - 2 * keep} chars>…{text[-keep:]}"


def expect_client_error(call, code, status, message=None, message_prefix=None, exc_class=None):
    """Runs call(), which must raise a botocore ClientError with this code, HTTP status and message."""
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    got = (err.get("Error", {}).get("Code"), err.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    assert got == (code, status), f"expected {code}/{status}, got {got}: {err.get('Error')}"
    text = err["Error"].get("Message", "")
    if message is not None:
        assert text == message, f"message was {_short(text)!r}, expected {_short(message)!r}"
    if message_prefix is not None:
        assert text.startswith(message_prefix), f"message was {_short(text)!r}, expected prefix {message_prefix!r}"
    if exc_class is not None:
        assert isinstance(info.value, exc_class), f"boto3 raised {type(info.value).__name__}, not {exc_class.__name__}"
    return info.value


# ------------------------------------------------------------------------------------------
# Bounded polling (only for what AWS documents as eventually consistent)
# ------------------------------------------------------------------------------------------


def poll(probe, timeout=20.0, interval=0.05, what="condition"):
    """Calls probe() until it returns a truthy value; at most `timeout` seconds and a bounded count."""
    deadline = time.monotonic() + timeout
    attempts = int(timeout / interval) + 2
    last = None
    for _ in range(attempts):
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def pid_alive(pid):
    """True if the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] != "Z"


# ------------------------------------------------------------------------------------------
# Raw HTTP (for requests boto3 would refuse to send)
# ------------------------------------------------------------------------------------------


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<RawResponse {self.status} {self.headers.get('x-amzn-errortype')} {self.body[:300]!r}>"


def raw_request(endpoint, method, path, body=None, headers=None, timeout=60):
    parsed = urllib.parse.urlparse(endpoint)
    assert parsed.hostname == "127.0.0.1"
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        hdrs = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/lambda/aws4_request"}
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return RawResponse(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def raw_json(endpoint, method, path, obj):
    return raw_request(
        endpoint, method, path, body=json.dumps(obj).encode(), headers={"Content-Type": "application/json"}
    )


# ------------------------------------------------------------------------------------------
# AWS CLI and the nimbus CLI
# ------------------------------------------------------------------------------------------


def cli_env(tmp_dir):
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("AWS_"):
            del env[key]
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
        AWS_CONFIG_FILE=os.path.join(tmp_dir, "aws-config-absent"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp_dir, "aws-credentials-absent"),
    )
    return env


def aws_cli():
    """The AWS CLI v2 (Debian's `awscli` package: the README's commands are v2 commands), or a skip saying what is
    missing; in CI, where test.sh installs it, a failure."""
    candidates = [os.environ.get("NIMBUS_AWS_CLI"), "/usr/bin/aws", shutil.which("aws")]
    for path in filter(None, candidates):
        try:
            version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if version.startswith("aws-cli/2."):
            return path
    why = "the AWS CLI v2 is not installed (apt-get install awscli)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why + " — scripts/test.sh installs it")
    pytest.skip(why)


def run_cmd(args, env=None, timeout=120, cwd=None):
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)


# ------------------------------------------------------------------------------------------
# Server shutdown
# ------------------------------------------------------------------------------------------


def shutdown_problems(report):
    problems = []
    if report["already_dead"]:
        problems.append(f"the server had already exited (status {report['returncode']}) before SIGTERM")
    elif report["returncode"] != 0:
        problems.append(f"after SIGTERM the server exit status was {report['returncode']!r}, expected 0")
    if report["leftovers"]:
        problems.append(f"processes left behind after shutdown: {report['leftovers']}")
    return problems

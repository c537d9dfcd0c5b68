"""Hostile and malformed input: clean 4xx errors, nothing written outside the data directory, no crash.

Every test here uses the `server_ok` fixture, which afterwards asserts that the server process is still
running and still answers ListFunctions.
"""

import base64
import json
import os
import random
import uuid

import pytest

from helpers import (
    INVOKE_TOO_LARGE,
    PY,
    ROLE,
    UNZIP_ERROR,
    expect_client_error,
    make_zip,
    raw_json,
    raw_request,
    unique,
)

pytestmark = pytest.mark.usefixtures("server_ok")

OK = "def handler(event, context):\n    return event\n"


def _b64(data):
    return base64.b64encode(data).decode()


def test_corrupt_zip(lam, functions):
    rng = random.Random(1234)
    garbage = bytes(rng.getrandbits(8) for _ in range(4096))
    assert not garbage.startswith(b"PK")
    for data in (garbage, b"PK\x03\x04" + garbage[:200]):
        expect_client_error(
            lambda: functions.create(data),
            "InvalidParameterValueException",
            400,
            message=UNZIP_ERROR,
            exc_class=lam.exceptions.InvalidParameterValueException,
        )
    # UpdateFunctionCode validates the same way and leaves the function as it was.
    name = functions.python(OK)
    sha = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    expect_client_error(
        lambda: lam.update_function_code(FunctionName=name, ZipFile=garbage),
        "InvalidParameterValueException",
        400,
        message=UNZIP_ERROR,
    )
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == sha
    assert json.loads(lam.invoke(FunctionName=name, Payload=b'{"still":"ok"}')["Payload"].read()) == {"still": "ok"}


def _evil_files(root, tag):
    """Files named evil-e2e-<tag>* anywhere under the session root (data dir included) or directly in /tmp."""
    found = [os.path.join("/tmp", f) for f in os.listdir("/tmp") if tag in f]
    for dirpath, dirnames, files in os.walk(root):
        if dirpath.count(os.sep) - root.count(os.sep) > 16:
            dirnames[:] = []
        found += [os.path.join(dirpath, f) for f in files + dirnames if tag in f]
    return found


def test_zip_with_path_traversal(lam, functions, nimbus):
    tag = uuid.uuid4().hex[:8]
    depth = "../" * 24
    absolute_target = os.path.join(nimbus.root, f"evil-e2e-{tag}-deep.py")
    zips = [
        make_zip({"app.py": OK, f"../evil-e2e-{tag}.py": "print('escaped')\n"}),
        make_zip({"app.py": OK, f"{depth}{absolute_target.lstrip('/')}": "print('escaped')\n"}),
        make_zip({"app.py": OK, f"lib/../../evil-e2e-{tag}-2.py": "x = 1\n"}),
    ]
    for data in zips:
        expect_client_error(
            lambda: functions.create(data),
            "InvalidParameterValueException",
            400,
            exc_class=lam.exceptions.InvalidParameterValueException,
        )
    # Also through UpdateFunctionCode.
    name = functions.python(OK)
    expect_client_error(
        lambda: lam.update_function_code(FunctionName=name, ZipFile=zips[0]), "InvalidParameterValueException", 400
    )
    assert not os.path.exists(absolute_target)
    leaked = _evil_files(nimbus.root, tag)
    assert not leaked, f"zip entries escaped the extraction directory: {leaked}"


def test_zip_with_symlink_outside(lam, functions):
    for target in ("/etc/passwd", "../../../../../../../../etc/passwd"):
        data = make_zip({"app.py": OK}, symlinks={"passwd": target})
        expect_client_error(
            lambda: functions.create(data),
            "InvalidParameterValueException",
            400,
            exc_class=lam.exceptions.InvalidParameterValueException,
        )


def test_zip_with_symlinks_inside_the_package_is_fine(lam, functions):
    """AWS keeps symlinks in a deployment package; links that stay inside the package must keep working."""
    code = make_zip(
        {"app.py": "import os\ndef handler(event, context):\n    return os.path.islink('link.py')\n", "lib/x.py": ""},
        symlinks={"link.py": "app.py", "lib/up.py": "../app.py"},
    )
    name = functions.create(code, handler="link.handler")["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in r, r["Payload"].read()
    assert r["Payload"].read() == b"true"


def test_invoke_payload_of_7mb(lam, functions, endpoint):
    name = functions.python(OK)
    body = b'{"k":"' + b"z" * (7 * 1024 * 1024) + b'"}'
    resp = raw_request(endpoint, "POST", f"/2015-03-31/functions/{name}/invocations", body=body)
    assert resp.status == 413, resp
    assert resp.headers.get("x-amzn-errortype") == "RequestEntityTooLargeException"
    err = resp.json()
    assert (err.get("Message") or err.get("message")) == INVOKE_TOO_LARGE
    expect_client_error(
        lambda: lam.invoke(FunctionName=name, Payload=body), "RequestEntityTooLargeException", 413,
        message=INVOKE_TOO_LARGE,
    )  # fmt: skip
    assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


@pytest.mark.parametrize(
    "body",
    [b'{"FunctionName": "x", ', b"not json at all", b"[1,2,3]", b'"a string"', b"\xff\xfe\x00garbage", b""],
    ids=["truncated", "text", "array", "string", "binary", "empty"],
)
def test_malformed_create_function_body(endpoint, body):
    resp = raw_request(
        endpoint, "POST", "/2015-03-31/functions", body=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400, resp
    assert resp.headers.get("x-amzn-errortype"), f"no x-amzn-ErrorType header: {resp}"
    assert resp.headers.get("x-amzn-requestid")
    err = resp.json()
    assert isinstance(err, dict)
    assert err.get("message") or err.get("Message"), err


def test_unknown_top_level_field(endpoint, functions):
    name = unique("unknown")
    body = {
        "FunctionName": name, "Runtime": PY, "Role": ROLE, "Handler": "app.handler",
        "Code": {"ZipFile": _b64(make_zip({"app.py": OK}))}, "NotAField": 1,
    }  # fmt: skip
    resp = raw_json(endpoint, "POST", "/2015-03-31/functions", body)
    if resp.status == 201:
        functions.track(name)
    assert resp.status == 400, resp
    assert resp.headers.get("x-amzn-errortype") == "InvalidParameterValueException", resp


def test_wrong_types_in_create(endpoint, functions):
    name = unique("types")
    base = {
        "FunctionName": name, "Runtime": PY, "Role": ROLE, "Handler": "app.handler",
        "Code": {"ZipFile": _b64(make_zip({"app.py": OK}))},
    }  # fmt: skip
    for field, value in (("MemorySize", "lots"), ("Timeout", [1]), ("Environment", {"Variables": {"A": 1}})):
        body = dict(base, **{field: value})
        resp = raw_json(endpoint, "POST", "/2015-03-31/functions", body)
        if resp.status == 201:
            functions.track(name)
        assert resp.status == 400, (field, resp)
        assert resp.headers.get("x-amzn-errortype"), (field, resp)
    # ZipFile that is not base64.
    resp = raw_json(endpoint, "POST", "/2015-03-31/functions", dict(base, Code={"ZipFile": "%%%not-base64%%%"}))
    if resp.status == 201:
        functions.track(name)
    assert resp.status == 400, resp


def test_unknown_routes_and_methods(endpoint):
    for method, path in (
        ("GET", "/2015-03-31/nothing-here"),
        ("PATCH", "/2015-03-31/functions"),
        ("GET", "/../../etc/passwd"),
        ("GET", "/2015-03-31/functions/%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
    ):
        resp = raw_request(endpoint, method, path)
        assert 400 <= resp.status < 500, (method, path, resp)
        assert b"root:" not in resp.body

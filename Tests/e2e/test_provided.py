"""provided.al2023 functions: the compiled Nimbus test runtime, and AWS's own Python client (awslambdaric)."""

import json
import os
import signal
import subprocess
import sys

import pytest

from helpers import RESPONSE_TOO_LARGE, function_arn, make_zip, payload_json, pid_alive, poll

AWSLAMBDARIC_PIP = f"{sys.executable} -m pip install awslambdaric"


def _bootstrap_zip(binary):
    return make_zip({"bootstrap": (binary, 0o755)})


@pytest.fixture
def provided(functions, test_runtime_bin):
    def create(behaviour, **kwargs):
        return functions.create(
            _bootstrap_zip(test_runtime_bin), runtime="provided.al2023", handler=behaviour, **kwargs
        )["FunctionName"]

    return create


def test_echo_and_environment(lam, provided):
    name = provided("echo")
    r = lam.invoke(FunctionName=name, Payload=b'{"provided":true}')
    assert r["StatusCode"] == 200 and "FunctionError" not in r
    assert payload_json(r) == {"provided": True}

    name = provided("env", MemorySize=192)
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    body = payload_json(r)
    env = body["env"]
    assert env["_HANDLER"] == "env"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert "AWS_EXECUTION_ENV" not in env, "AWS does not set AWS_EXECUTION_ENV for provided.* runtimes"
    host, _, port = env["AWS_LAMBDA_RUNTIME_API"].partition(":")
    assert host and port.isdigit(), env["AWS_LAMBDA_RUNTIME_API"]


def test_function_error(lam, provided):
    name = provided("error")
    r = lam.invoke(FunctionName=name, Payload=b'{"message":"custom failure"}')
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    body = payload_json(r)
    assert body["errorType"] == "TestError"
    assert body["errorMessage"] == "custom failure"


def test_crash(lam, provided):
    name = provided("crash")
    r = lam.invoke(FunctionName=name, Payload=b'{"code":7}')
    rid = r["ResponseMetadata"]["RequestId"]
    assert r["FunctionError"] == "Unhandled"
    assert payload_json(r) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 7",
    }


def test_init_error(lam, provided):
    name = provided("init-error")
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert payload_json(r)["errorType"] == "Runtime.TestInitError"


def test_init_crash(lam, provided):
    name = provided("init-crash")
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    rid = r["ResponseMetadata"]["RequestId"]
    assert r["FunctionError"] == "Unhandled"
    assert payload_json(r) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }


def test_detached_grandchild_dies_with_its_environment(lam, provided):
    """Deleting a function tears down its environments; on AWS nothing the function started survives that."""
    name = provided("fork")
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in r
    grandchild = payload_json(r)["grandchild"]
    try:
        assert pid_alive(grandchild)
        lam.delete_function(FunctionName=name)
        poll(lambda: not pid_alive(grandchild), timeout=5, what=f"detached grandchild {grandchild} to be killed")
    finally:
        if pid_alive(grandchild):  # do not leak it into the rest of the session
            os.kill(grandchild, signal.SIGKILL)


def test_response_size_limit(lam, provided):
    name = provided("big", MemorySize=512)
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"bytes": 6291456}))
    assert "FunctionError" not in r, "a 6 MiB response is within the limit (6291556 bytes)"
    assert len(r["Payload"].read()) == 6291456
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"bytes": 6291557}))
    assert r["FunctionError"] == "Unhandled"
    assert payload_json(r) == RESPONSE_TOO_LARGE


# ------------------------------------------------------------------------------------------
# The unmodified official Python runtime interface client
# ------------------------------------------------------------------------------------------

RIC_APP = """
import os

def handler(event, context):
    print("ric-print", event)
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("ric failure")
    return {
        "event": event,
        "requestId": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "functionName": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
    }
"""


def _ric_importable():
    proc = subprocess.run([sys.executable, "-c", "import awslambdaric"], capture_output=True, timeout=60)
    return proc.returncode == 0


@pytest.fixture(scope="module")
def awslambdaric_available():
    """The suite installs awslambdaric itself (once) if this interpreter lacks it; skips only if that fails."""
    if _ric_importable():
        return
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "awslambdaric"], capture_output=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        pass
    if not _ric_importable():
        pytest.skip(f"`import awslambdaric` fails for {sys.executable}; install it with: {AWSLAMBDARIC_PIP}")


def test_awslambdaric_function(lam, functions, awslambdaric_available):
    bootstrap = f"#!/bin/sh\nexec {sys.executable} -m awslambdaric app.handler\n"
    code = make_zip({"bootstrap": (bootstrap, 0o755), "app.py": RIC_APP})
    name = functions.create(code, runtime="provided.al2023", handler="app.handler", Timeout=10)["FunctionName"]

    r = lam.invoke(FunctionName=name, Payload=b'{"x":1}', LogType="Tail")
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r, r["Payload"].read()
    rid = r["ResponseMetadata"]["RequestId"]
    body = payload_json(r)
    assert body["event"] == {"x": 1}, "awslambdaric decodes the event only if /next says Content-Type: application/json"
    assert body["requestId"] == rid
    assert body["arn"] == function_arn(name)
    assert body["functionName"] == name
    assert body["memory"] == "128"
    assert 0 < body["remaining"] <= 10000

    # Warm: same process, a new request id.
    r2 = lam.invoke(FunctionName=name, Payload=b'{"x":2}')
    body2 = payload_json(r2)
    assert body2["pid"] == body["pid"]
    assert body2["requestId"] == r2["ResponseMetadata"]["RequestId"] != rid

    r3 = lam.invoke(FunctionName=name, Payload=b'{"fail":true}')
    assert r3["FunctionError"] == "Unhandled"
    err = payload_json(r3)
    assert err["errorType"] == "ValueError"
    assert err["errorMessage"] == "ric failure"
    assert err["requestId"] == r3["ResponseMetadata"]["RequestId"]
    assert isinstance(err["stackTrace"], list) and err["stackTrace"]

    # Still serving after the error.
    assert payload_json(lam.invoke(FunctionName=name, Payload=b'{"x":3}'))["event"] == {"x": 3}

"""Invoke behaviour with the python3.12 managed runtime (test_lambda.snapshot.json, spec §2.3–2.4)."""

import base64
import json
import re
import threading
import time
import urllib.parse

from helpers import (
    ACCOUNT,
    INVOKE_TOO_LARGE,
    RESPONSE_TOO_LARGE,
    expect_client_error,
    function_arn,
    header,
    log_tail,
    payload_bytes,
    payload_json,
    pid_alive,
    poll,
    raw_request,
)

ECHO = """
import os
def handler(event, context):
    return {"event": event, "pid": os.getpid(), "requestId": context.aws_request_id,
            "arn": context.invoked_function_arn}
"""

RAISES = """
class MyCustomError(Exception):
    pass

def handler(event, context):
    raise MyCustomError("Handler fails: " + str(event.get("why")))
"""

STATEFUL = """
import os, tempfile, time

COUNT = 0
TMP = os.path.join(tempfile.gettempdir(), "e2e-state-" + os.environ["AWS_LAMBDA_FUNCTION_NAME"])

def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("write"):
        with open(TMP, "w") as f:
            f.write(event["write"])
    if event.get("pidfile"):
        with open(event["pidfile"], "w") as f:
            f.write(str(os.getpid()))
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit") is not None:
        os._exit(event["exit"])
    content = None
    if os.path.exists(TMP):
        with open(TMP) as f:
            content = f.read()
    return {"count": COUNT, "pid": os.getpid(), "tmp": content}
"""

IMPORT_ERROR = "import nonexistent_module_e2e\n\ndef handler(event, context):\n    return 1\n"

CONTEXT = """
import os
def handler(event, context):
    cc = context.client_context
    return {
        "custom": cc.custom if cc else None,
        "env": cc.env if cc else None,
        "installation_id": cc.client.installation_id if cc and cc.client else None,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "stream_env": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
        "execution_env": os.environ.get("AWS_EXECUTION_ENV"),
        "region": os.environ.get("AWS_REGION"),
        "handler_env": os.environ.get("_HANDLER"),
        "runtime_api": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
    }
"""

NOISY = """
def handler(event, context):
    for i in range(1000):
        print("noisy-line-%05d" % i)
"""

BIG = """
def handler(event, context):
    return "x" * event["n"]
"""


def _invoke(lam, name, event=None, **kwargs):
    if event is not None:
        kwargs["Payload"] = json.dumps(event)
    return lam.invoke(FunctionName=name, **kwargs)


def test_empty_payload_reaches_the_handler_as_empty_object(lam, functions):
    name = functions.python(ECHO)
    r = lam.invoke(FunctionName=name)
    assert r["StatusCode"] == 200
    assert payload_json(r)["event"] == {}


def test_no_return_value_is_null(lam, functions):
    name = functions.python(NOISY.replace("range(1000)", "range(0)"))
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in r
    assert payload_bytes(r) == b"null"


def test_log_tail_is_the_last_4kb(lam, functions):
    name = functions.python(NOISY)
    r = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    raw = base64.b64decode(r["LogResult"])
    assert len(raw) <= 4096, len(raw)
    text = raw.decode("utf-8", "replace")
    rid = r["ResponseMetadata"]["RequestId"]
    assert "noisy-line-00999" in text and "noisy-line-00000" not in text
    assert f"END RequestId: {rid}" in text and f"REPORT RequestId: {rid}" in text
    assert text.rstrip("\n").endswith("\t"), "the REPORT line ends with a tab"


def test_init_duration_only_on_cold_start(lam, functions):
    name = functions.python(ECHO)
    tails = [log_tail(lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")) for _ in range(2)]
    cold = next(line for line in tails[0].splitlines() if line.startswith("REPORT"))
    warm = next(line for line in tails[1].splitlines() if line.startswith("REPORT"))
    assert re.search(r"\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d{2} ms\t$", cold), cold
    assert "Init Duration" not in warm, warm
    assert warm.endswith("\t"), warm


def test_handler_exception(lam, functions):
    name = functions.python(RAISES)
    r = _invoke(lam, name, {"why": "because"})
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert header(r, "x-amz-function-error") == "Unhandled"
    assert r["ExecutedVersion"] == "$LATEST"
    body = payload_json(r)
    assert set(body) == {"errorMessage", "errorType", "requestId", "stackTrace"}, body
    assert body["errorType"] == "MyCustomError"
    assert body["errorMessage"] == "Handler fails: because"
    assert body["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]
    assert all(isinstance(line, str) for line in body["stackTrace"])
    assert 'line 6, in handler\n    raise MyCustomError("Handler fails: " + str(event.get("why")))\n' in body["stackTrace"][-1]
    # The environment survives a handled exception (no reset): the next invoke still works.
    assert _invoke(lam, name, {"why": 2})["FunctionError"] == "Unhandled"


def test_timeout_resets_the_environment(lam, functions, tmp_path):
    name = functions.python(STATEFUL, Timeout=1)
    first = payload_json(_invoke(lam, name, {"write": "kept-in-tmp"}))
    assert first["count"] == 1
    pidfile = str(tmp_path / "pid")
    t0 = time.monotonic()
    r = _invoke(lam, name, {"sleep": 3, "pidfile": pidfile})
    elapsed = time.monotonic() - t0
    rid = r["ResponseMetadata"]["RequestId"]
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert payload_json(r) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    assert elapsed < 2.9, f"the timed-out invoke returned after {elapsed:.2f}s, not at the 1 s timeout"
    with open(pidfile) as f:
        timed_out_pid = int(f.read())
    assert timed_out_pid == first["pid"]
    # The timed-out runtime is killed.
    poll(lambda: not pid_alive(timed_out_pid), timeout=10, what=f"timed-out runtime pid {timed_out_pid} to exit")
    # The next invoke is a cold start: a new process, globals reset; /tmp survives the reset (recorded on AWS).
    after = payload_json(_invoke(lam, name, {}))
    assert after["pid"] != timed_out_pid
    assert after["count"] == 1
    assert after["tmp"] == "kept-in-tmp"


def test_runtime_exit(lam, functions):
    name = functions.python(STATEFUL)
    first = payload_json(_invoke(lam, name, {}))
    r = _invoke(lam, name, {"exit": 3})
    rid = r["ResponseMetadata"]["RequestId"]
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert payload_json(r) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }
    after = payload_json(_invoke(lam, name, {}))
    assert after["pid"] != first["pid"] and after["count"] == 1


def test_import_error_is_reported_on_invoke(lam, functions):
    name = functions.python(IMPORT_ERROR)
    for _ in range(2):  # init is retried on the next invoke and fails the same way
        r = _invoke(lam, name, {})
        assert r["StatusCode"] == 200
        assert r["FunctionError"] == "Unhandled"
        body = payload_json(r)
        assert body["errorType"] == "Runtime.ImportModuleError"
        assert body["errorMessage"] == "Unable to import module 'app': No module named 'nonexistent_module_e2e'"
        assert body.get("requestId") == ""
        assert isinstance(body.get("stackTrace"), list)


def test_missing_handler(lam, functions):
    name = functions.python(ECHO, handler="app.nothere")
    r = _invoke(lam, name, {})
    assert r["FunctionError"] == "Unhandled"
    body = payload_json(r)
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'nothere' missing on module 'app'"


def test_missing_module(lam, functions):
    name = functions.python(ECHO, handler="nomodule.handler")
    body = payload_json(_invoke(lam, name, {}))
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'nomodule': No module named 'nomodule'"


def test_warm_reuse(lam, functions):
    name = functions.python(STATEFUL)
    results = [payload_json(_invoke(lam, name, {"write": "w"} if i == 0 else {})) for i in range(3)]
    assert [r["count"] for r in results] == [1, 2, 3]
    assert len({r["pid"] for r in results}) == 1
    assert [r["tmp"] for r in results] == ["w", "w", "w"]


def test_concurrent_invokes_use_several_environments(lam, functions):
    name = functions.python(STATEFUL, Timeout=30)
    results, errors = [None] * 8, []

    def worker(i):
        try:
            r = _invoke(lam, name, {"sleep": 0.3})
            results[i] = (r["StatusCode"], r.get("FunctionError"), payload_json(r))
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert all(r is not None for r in results), "an invoke did not finish within 60 s"
    assert all(status == 200 and err is None for status, err, _ in results), results
    pids = {body["pid"] for _, _, body in results}
    assert len(pids) > 1, "8 concurrent invokes all ran in one environment"
    # One environment handles one invoke at a time: per pid, counts are distinct.
    per_pid = {}
    for _, _, body in results:
        per_pid.setdefault(body["pid"], []).append(body["count"])
    for pid, counts in per_pid.items():
        assert sorted(counts) == list(range(1, len(counts) + 1)), (pid, counts)


def test_client_context_and_context_fields(lam, functions):
    name = functions.python(CONTEXT)
    cc = {"custom": {"foo": "bar"}, "env": {"locale": "en-GB"}, "client": {"installation_id": "inst-1"}}
    r = lam.invoke(FunctionName=name, ClientContext=base64.b64encode(json.dumps(cc).encode()).decode(), Payload=b"{}")
    body = payload_json(r)
    assert body["custom"] == {"foo": "bar"}
    assert body["env"] == {"locale": "en-GB"}
    assert body["installation_id"] == "inst-1"
    assert body["function_name"] == name
    assert body["function_version"] == "$LATEST"
    assert body["log_group_name"] == f"/aws/lambda/{name}"
    assert body["log_stream_name"] == body["stream_env"]
    assert body["execution_env"] == "AWS_Lambda_python3.12"
    assert body["region"] == "us-east-1"
    assert body["handler_env"] == "app.handler"
    assert body["runtime_api"] and "://" not in body["runtime_api"]
    # Without the header there is no client context.
    assert payload_json(lam.invoke(FunctionName=name, Payload=b"{}"))["custom"] is None


def test_invoke_by_arn_partial_arn_and_encoded_name(lam, functions, endpoint):
    name = functions.python(ECHO)
    full = function_arn(name)
    for ident, invoked in (
        (name, full),
        (full, full),
        (f"{ACCOUNT}:function:{name}", full),
        (f"{full}:$LATEST", f"{full}:$LATEST"),  # the ARN as invoked, qualifier included
    ):
        r = lam.invoke(FunctionName=ident, Payload=b'{"via":"arn"}')
        assert r["StatusCode"] == 200, ident
        body = payload_json(r)
        assert body["event"] == {"via": "arn"}
        assert body["arn"] == invoked, ident
    # Every character percent-encoded in the path, as a client may legally send it.
    encoded = "".join(f"%{b:02X}" for b in name.encode())
    resp = raw_request(endpoint, "POST", f"/2015-03-31/functions/{encoded}/invocations", body=b'{"via":"raw"}')
    assert resp.status == 200, resp
    assert resp.json()["event"] == {"via": "raw"}
    encoded_arn = urllib.parse.quote(full, safe="")
    resp = raw_request(endpoint, "POST", f"/2015-03-31/functions/{encoded_arn}/invocations", body=b"{}")
    assert resp.status == 200, resp
    assert resp.headers.get("x-amz-executed-version") == "$LATEST"


def test_request_payload_over_6mb(lam, functions):
    name = functions.python(ECHO)
    payload = b'"' + b"a" * (6291457 - 2) + b'"'
    assert len(payload) == 6291456 + 1
    expect_client_error(
        lambda: lam.invoke(FunctionName=name, Payload=payload),
        "RequestEntityTooLargeException",
        413,
        message=INVOKE_TOO_LARGE,
    )
    # Still works afterwards.
    assert payload_json(lam.invoke(FunctionName=name, Payload=b'{"after":1}'))["event"] == {"after": 1}


def test_response_over_6mb(lam, functions):
    name = functions.python(BIG, MemorySize=512)
    ok = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 6_000_000}))
    assert "FunctionError" not in ok
    assert len(payload_bytes(ok)) == 6_000_002
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 6_300_000}))
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert payload_json(r) == RESPONSE_TOO_LARGE

"""Behaviour of the Python runtime client against a fake Runtime API, on every installed
Python from 3.9 to 3.13. Expected strings come from awslambdaric and from responses
recorded on AWS (shared/data/aws-recorded)."""

import json
import os
import re

import pytest

from runtime_harness import python_params, send_sigterm

pytestmark = pytest.mark.parametrize("version", python_params())

NBSP = "\u00a0"
LOG_LINE = re.compile(r"^\[(?P<level>[A-Z]+)\]\t(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t(?P<rid>[^\t]*)\t(?P<msg>.*)$")

CONTEXT_HANDLER = '''
import os
def handler(event, context):
    cc = context.client_context
    return {
        "event": event,
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "client_context": None if cc is None else {
            "custom": cc.custom, "env": cc.env,
            "client": None if cc.client is None else {
                "installation_id": cc.client.installation_id, "app_title": cc.client.app_title},
        },
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "cwd": os.getcwd(),
    }
'''


def test_invoke_context_and_keepalive(py_env, version):
    env = py_env(version)
    api, proc = env.start({"app.py": CONTEXT_HANDLER}, "app.handler")
    deadline = int(__import__("time").time() * 1000) + 3000
    post = env.invoke({"k": [1, 2, {"x": None}]}, deadline_ms=deadline)
    assert post.kind == "response"
    assert post.headers["content-type"] == "application/json"
    body = post.json()
    assert body["event"] == {"k": [1, 2, {"x": None}]}
    assert body["aws_request_id"] == post.request_id
    assert body["function_name"] == "fn"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    # AWS gives a string here (recorded: "memory_limit_in_mb": "1024").
    assert body["memory_limit_in_mb"] == "128"
    assert body["log_group_name"] == "/aws/lambda/fn"
    assert body["log_stream_name"].startswith("2024/01/01/[$LATEST]")
    assert 0 < body["remaining"] <= 3000
    assert body["trace"].startswith("Root=1-5759e988")
    assert body["client_context"] is None
    assert body["identity"] == [None, None]
    assert body["cwd"] == env.task_root

    # Trace id is per invoke: removed when the next invoke has none.
    post = env.invoke({}, trace_id=None)
    assert post.json()["trace"] is None
    post = env.invoke({}, trace_id="Root=1-abc")
    assert post.json()["trace"] == "Root=1-abc"
    # One keep-alive connection for all of it.
    assert api.connections == 1
    # and nothing but the protocol: next, response, next, ...
    api.wait_next(4)
    methods = [m for m, _ in api.requests]
    assert methods == ["GET", "POST"] * 3 + ["GET"]
    assert all(path == "/2018-06-01/runtime/invocation/next" for m, path in api.requests if m == "GET")
    assert all(path.endswith("/response") for m, path in api.requests if m == "POST")


def test_client_context_and_identity(py_env, version):
    env = py_env(version)
    env.start({"app.py": CONTEXT_HANDLER}, "app.handler")
    post = env.invoke(
        {},
        client_context={"custom": {"a": 1}, "env": {"b": "2"}, "client": {"installation_id": "i-1", "app_title": "T"}},
        cognito_identity={"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    )
    body = post.json()
    assert body["client_context"] == {
        "custom": {"a": 1},
        "env": {"b": "2"},
        "client": {"installation_id": "i-1", "app_title": "T"},
    }
    assert body["identity"] == ["id-1", "pool-1"]

    post = env.invoke({}, client_context="{not json")
    assert post.kind == "error"
    err = post.json()
    assert err["errorType"] == "Runtime.LambdaContextUnmarshalError"
    assert err["errorMessage"].startswith("Unable to parse Client Context JSON: Expecting property name")


def test_output_and_logging_reach_pipe_before_post(py_env, version):
    env = py_env(version)
    env.start(
        {
            "app.py": '''
import logging, sys
logger = logging.getLogger()
print("init print")
def handler(event, context):
    print("hello from print", event["n"])
    sys.stdout.write("partial line, no newline")
    logger.warning("warn %s", event["n"])
    logger.info("info is filtered by default")
    return "ok"
'''
        },
        "app.handler",
    )
    post = env.invoke({"n": 7})
    assert post.body == b'"ok"'
    out = post.stdout
    assert "init print\n" in out
    assert "hello from print 7\n" in out
    assert "partial line, no newline" in out
    assert "info is filtered" not in out
    lines = [l for l in out.split("\n") if l.startswith("[WARNING]") or "[WARNING]" in l]
    m = LOG_LINE.match(lines[-1][lines[-1].index("[WARNING]"):])
    assert m, lines
    assert m.group("rid") == post.request_id
    assert m.group("msg") == "warn 7"


def test_logging_level_from_env_and_lazy_configuration(py_env, version):
    env = py_env(version)
    env.start(
        {
            "app.py": '''
import sys, importlib.util
LOADED_AT_START = "logging" in sys.modules
importlib.util.find_spec("logging")  # looking is not importing
def handler(event, context):
    import logging  # imported lazily: must still get the Lambda format
    logging.getLogger("x").debug("debug line")
    return LOADED_AT_START
'''
        },
        "app.handler",
        env={"AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
    )
    post = env.invoke({})
    assert post.body == b"false"  # the runtime itself did not import logging
    line = [l for l in post.stdout.split("\n") if "debug line" in l][0]
    m = LOG_LINE.match(line)
    assert m and m.group("level") == "DEBUG" and m.group("rid") == post.request_id


def test_json_log_format(py_env, version):
    env = py_env(version)
    env.start(
        {
            "app.py": '''
import logging
logging.getLogger().setLevel(logging.INFO)
def handler(event, context):
    logging.getLogger("mylog").info("hello %s", "json", extra={"custom_field": 5})
    raise RuntimeError("bad")
'''
        },
        "app.handler",
        env={"AWS_LAMBDA_LOG_FORMAT": "JSON"},
    )
    post = env.invoke({})
    records = [json.loads(l) for l in post.stdout.strip().split("\n")]
    info = records[0]
    assert info["level"] == "INFO"
    assert info["message"] == "hello json"
    assert info["logger"] == "mylog"
    assert info["requestId"] == post.request_id
    assert info["custom_field"] == 5
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", info["timestamp"])
    err = records[1]
    assert err["log_level"] == "ERROR"
    assert err["errorType"] == "RuntimeError"
    assert err["errorMessage"] == "bad"
    assert err["requestId"] == post.request_id
    assert isinstance(err["stackTrace"], list)


def test_handler_exception(py_env, version):
    env = py_env(version)
    env.start(
        {
            "handler_error.py": 'def handler(event, context):\n    raise Exception("Handler fails")\n',
        },
        "handler_error.handler",
    )
    post = env.invoke({})
    assert post.kind == "error"
    path = os.path.join(env.task_root, "handler_error.py")
    # Same shape as the AWS recording in test_lambda.snapshot.json (test_lambda_handler_error).
    assert post.json() == {
        "errorMessage": "Handler fails",
        "errorType": "Exception",
        "requestId": post.request_id,
        "stackTrace": ['  File "%s", line 2, in handler\n    raise Exception("Handler fails")\n' % path],
    }
    assert list(json.loads(post.body)) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert post.headers["lambda-runtime-function-error-type"] == "Exception"
    assert post.headers["content-type"] == "application/json"
    expected_log = (
        "[ERROR] Exception: Handler fails\rTraceback (most recent call last):\r"
        + NBSP * 2
        + 'File "%s", line 2, in handler\r' % path
        + NBSP * 4
        + 'raise Exception("Handler fails")\n'
    )
    assert expected_log in post.stdout
    # The environment keeps serving.
    post2 = env.invoke({})
    assert post2.kind == "error" and post2.request_id != post.request_id


def test_nested_traceback_and_custom_exception(py_env, version):
    env = py_env(version)
    env.start(
        {
            "lib/helper.py": "class CustomException(Exception):\n    pass\n\ndef fail(msg):\n    raise CustomException(msg)\n",
            "app.py": "from lib.helper import fail\n\ndef handler(event, context):\n    fail('some error occurred')\n",
        },
        "app.handler",
    )
    post = env.invoke({})
    err = post.json()
    assert err["errorType"] == "CustomException"
    assert err["errorMessage"] == "some error occurred"
    assert err["stackTrace"] == [
        '  File "%s", line 4, in handler\n    fail(\'some error occurred\')\n' % os.path.join(env.task_root, "app.py"),
        '  File "%s", line 5, in fail\n    raise CustomException(msg)\n' % os.path.join(env.task_root, "lib", "helper.py"),
    ]


@pytest.mark.parametrize(
    "files,handler",
    [
        ({"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/mod.py": "def fn(e, c):\n    return 'nested'\n"}, "pkg.sub.mod.fn"),
        ({"dir/mod.py": "def fn(e, c):\n    return 'nested'\n"}, "dir/mod.fn"),
        ({"a/b/mod.py": "def fn(e, c):\n    return 'nested'\n"}, "a/b/mod.fn"),
    ],
    ids=["dotted", "slash", "slash2"],
)
def test_handler_names(py_env, version, files, handler):
    env = py_env(version)
    env.start(files, handler)
    assert env.invoke({}).body == b'"nested"'


def test_handler_from_argv(py_env, version):
    env = py_env(version)
    env.start({"app.py": "def h(e, c):\n    return 1\n"}, "app.h", env={"_HANDLER": "wrong.name"}, argv_handler=True)
    assert env.invoke({}).body == b"1"


def _init_error(env):
    post = env.api.wait_post()
    assert post.kind == "init_error", post
    code = env.proc.wait_exit()
    assert code == 1
    body = post.json()
    assert post.headers["lambda-runtime-function-error-type"] == body["errorType"]
    assert body["requestId"] == ""
    assert "LAMBDA_WARNING: Unhandled exception." in post.stdout
    return post, body


def test_init_error_import_module(py_env, version):
    env = py_env(version)
    env.start({}, "nope.handler")
    post, body = _init_error(env)
    assert body == {
        "errorMessage": "Unable to import module 'nope': No module named 'nope'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    assert (
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'nope': No module named 'nope'\r"
        "Traceback (most recent call last):\n" in post.stdout
    )
    warning = [l for l in post.stdout.split("\n") if "LAMBDA_WARNING" in l][0]
    m = LOG_LINE.match(warning)
    assert m and m.group("level") == "WARNING" and m.group("rid") == ""


def test_init_error_missing_dependency(py_env, version):
    env = py_env(version)
    env.start({"app.py": "import missing_dependency_xyz\n\ndef handler(e, c):\n    pass\n"}, "app.handler")
    _, body = _init_error(env)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'app': No module named 'missing_dependency_xyz'"


def test_init_error_handler_not_found(py_env, version):
    env = py_env(version)
    env.start({"app.py": "x = 1\n"}, "app.nope")
    _, body = _init_error(env)
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'nope' missing on module 'app'"
    assert body["stackTrace"] == []


def test_init_error_malformed_handler(py_env, version):
    env = py_env(version)
    env.start({"app.py": "x = 1\n"}, "app")
    _, body = _init_error(env)
    assert body["errorType"] == "Runtime.MalformedHandlerName"
    assert body["errorMessage"] == "Bad handler 'app': not enough values to unpack (expected 2, got 1)"


def test_init_error_builtin_module_conflict(py_env, version):
    env = py_env(version)
    env.start({}, "sys.handler")
    _, body = _init_error(env)
    assert body["errorType"] == "Runtime.BuiltInModuleConflict"
    assert body["errorMessage"] == "Cannot use built-in module sys as a handler module"


def test_init_error_syntax(py_env, version):
    env = py_env(version)
    env.start({"app.py": "def handler(event, context):\n    return = 1\n"}, "app.handler")
    _, body = _init_error(env)
    path = os.path.join(env.task_root, "app.py")
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("Syntax error in module 'app': ")
    assert body["errorMessage"].endswith("(app.py, line 2)")
    assert len(body["stackTrace"]) == 1
    assert body["stackTrace"][0].startswith('  File "%s" Line 2\n    ' % path)
    assert "return = 1" in body["stackTrace"][0]


def test_init_error_exception_at_import(py_env, version):
    env = py_env(version)
    env.start({"lambda_runtime_error.py": 'raise Exception("Runtime startup fails")\n'}, "lambda_runtime_error.handler")
    _, body = _init_error(env)
    # Same shape as the AWS recording (test_lambda_runtime_error): the user's frame last,
    # importlib frames before it, none of the runtime's own.
    assert body["errorType"] == "Exception"
    assert body["errorMessage"] == "Runtime startup fails"
    trace = body["stackTrace"]
    assert trace[-1] == '  File "%s", line 1, in <module>\n    raise Exception("Runtime startup fails")\n' % os.path.join(
        env.task_root, "lambda_runtime_error.py"
    )
    assert any("importlib._bootstrap" in t for t in trace[:-1])
    assert not any("nimbus_runtime.py" in t for t in trace)


def test_marshal_error(py_env, version):
    env = py_env(version)
    env.start({"app.py": "def handler(e, c):\n    return {1, 2}\n"}, "app.handler")
    post = env.invoke({})
    assert post.kind == "error"
    assert post.json() == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": post.request_id,
        "stackTrace": [],
    }
    assert post.headers["lambda-runtime-function-error-type"] == "Runtime.MarshalError"


def test_unmarshal_error_and_raw_content_type(py_env, version):
    env = py_env(version)
    env.start({"app.py": "def handler(e, c):\n    return repr(e)\n"}, "app.handler")
    post = env.invoke(raw=b"{not json")
    assert post.kind == "error"
    err = post.json()
    assert err["errorType"] == "Runtime.UnmarshalError"
    assert err["errorMessage"] == "Unable to unmarshal input: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    # awslambdaric hands the raw bytes to the handler when the type is not exactly JSON.
    post = env.invoke(raw=b"plain", content_type="text/plain")
    assert post.json() == "b'plain'"
    post = env.invoke(raw=b'  {"a": 1}  \n')
    assert post.json() == "{'a': 1}"


def test_result_encoding(py_env, version):
    env = py_env(version)
    env.start(
        {
            "app.py": '''
import decimal
def handler(event, context):
    kind = event["kind"]
    if kind == "none":
        return None
    if kind == "str":
        return "hi"
    if kind == "bytes":
        return b"\\x00raw"
    if kind == "decimal":
        return {"d": decimal.Decimal("1.10"), "i": decimal.Decimal("3"), "nan": decimal.Decimal("NaN")}
    if kind == "float":
        return [float("nan"), float("inf"), 0.1, 10**20, True]
    if kind == "unicode":
        return {"s": "h\\u00e9llo \\u2603"}
    if kind == "tuple":
        return {"t": (1, 2), "b": b"bytes-in-dict"}
    if kind == "circular":
        d = {}
        d["d"] = d
        return d
'''
        },
        "app.handler",
    )
    assert env.invoke({"kind": "none"}).body == b"null"
    assert env.invoke({"kind": "str"}).body == b'"hi"'
    post = env.invoke({"kind": "bytes"})
    assert post.body == b"\x00raw"
    assert post.headers["content-type"] == "application/unknown"
    assert env.invoke({"kind": "decimal"}).body == b'{"d": 1.10, "i": 3, "nan": NaN}'
    assert env.invoke({"kind": "float"}).body == b"[NaN, Infinity, 0.1, 100000000000000000000, true]"
    body = env.invoke({"kind": "unicode"}).body
    if version in ("3.12", "3.13"):
        assert body == '{"s": "h\u00e9llo \u2603"}'.encode("utf-8")
    else:
        assert body == b'{"s": "h\\u00e9llo \\u2603"}'
    assert env.invoke({"kind": "tuple"}).body == b'{"t": [1, 2], "b": "bytes-in-dict"}'
    err = env.invoke({"kind": "circular"}).json()
    assert err["errorType"] == "Runtime.MarshalError"
    assert err["errorMessage"] == "Unable to marshal response: Circular reference detected"


def test_large_and_unicode_event_roundtrip(py_env, version):
    env = py_env(version)
    env.start({"app.py": "def handler(e, c):\n    return e\n"}, "app.handler")
    event = {"blob": "x" * (3 * 1024 * 1024), "u": "\u00fc\u4e16\U0001f600"}
    post = env.invoke(event)
    assert json.loads(post.body) == event


@pytest.mark.parametrize("chunked,trickle", [(True, False), (True, True), (False, True)], ids=["chunked", "chunked-trickle", "length-trickle"])
def test_next_response_framing(py_env, version, chunked, trickle):
    env = py_env(version)
    api, _ = env.start({"app.py": "def handler(e, c):\n    return e\n"}, "app.handler")
    api.chunked_next = chunked
    api.trickle_next = trickle
    n = 5000 if not trickle else 60
    assert env.invoke({"a": "b" * n, "u": "\u00fc\u4e16"}).json() == {"a": "b" * n, "u": "\u00fc\u4e16"}
    assert env.invoke({"second": True}).json() == {"second": True}
    assert env.invoke({}).json() == {}


@pytest.mark.parametrize("how", [True, "header"], ids=["silently", "connection-close"])
def test_reconnects_when_connection_dropped(py_env, version, how):
    env = py_env(version)
    api, _ = env.start({"app.py": "def handler(e, c):\n    return e['n']\n"}, "app.handler")
    api.close_after_post = how
    for n in range(3):
        assert env.invoke({"n": n}).body == str(n).encode()
    api.wait_next(4)
    assert api.connections == 4  # the first, then one per dropped connection


def test_pythonpath_and_sys_path(py_env, version, tmp_path):
    extra = tmp_path / "extra-lib"
    extra.mkdir()
    (extra / "extramod.py").write_text("VALUE = 'from PYTHONPATH'\n")
    env = py_env(version)
    env.start(
        {
            "app.py": '''
import sys, extramod
def handler(e, c):
    return {"value": extramod.VALUE, "path0": sys.path[0], "flags": sys.flags.isolated}
'''
        },
        "app.handler",
        env={"PYTHONPATH": str(extra)},
    )
    body = env.invoke({}).json()
    assert body == {"value": "from PYTHONPATH", "path0": env.task_root, "flags": 1}


def test_context_repr_and_log(py_env, version):
    env = py_env(version)
    env.start(
        {"app.py": "def handler(e, c):\n    c.log('via context.log\\n')\n    return repr(c)\n"},
        "app.handler",
    )
    post = env.invoke({})
    assert "via context.log\n" in post.stdout
    assert post.json().startswith("LambdaContext([aws_request_id=%s,log_group_name=/aws/lambda/fn," % post.request_id)


def test_sigterm_exits_cleanly(py_env, version):
    env = py_env(version)
    api, proc = env.start({"app.py": "def handler(e, c):\n    return 1\n"}, "app.handler")
    assert env.invoke({}).body == b"1"
    api.wait_next(2)  # parked in the next long-poll
    send_sigterm(proc)
    assert proc.wait_exit() == 0


def test_handler_sys_exit_kills_runtime(py_env, version):
    env = py_env(version)
    env.start({"app.py": "import sys\ndef handler(e, c):\n    sys.exit(3)\n"}, "app.handler")
    env.api.invoke({})
    assert env.proc.wait_exit() == 3


def test_init_error_not_accepted_still_exits(py_env, version):
    env = py_env(version)
    api, proc = env.start({}, "nope.handler", configure=lambda api: api.post_status.update(init_error=403))
    # Whether or not the post was accepted, the runtime must go away.
    assert proc.wait_exit() != 0


def test_large_output_reaches_pipe_before_post(py_env, version):
    env = py_env(version)
    env.start(
        {
            "app.py": "def handler(e, c):\n    for _ in range(64):\n        print('x' * 65536)\n    print('LAST LINE', end='')\n    return 1\n"
        },
        "app.handler",
    )
    for n in range(1, 3):
        post = env.invoke({})
        assert post.stdout.endswith("LAST LINE")
        assert post.stdout.count("LAST LINE") == n

"""Behaviour of the Node.js runtime client against a fake Runtime API, on every node binary
found (PATH, ~/.nvm, $NIMBUS_TEST_NODE). Expected strings come from
aws-lambda-nodejs-runtime-interface-client and from responses recorded on AWS."""

import json
import os
import re

import pytest

from runtime_harness import NODE_CLIENT, node_params, send_sigterm

pytestmark = pytest.mark.parametrize("version", node_params())

LOG_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t(?P<rid>[^\t]*)\t(?P<level>[A-Z]+)\t(?P<msg>.*)$"
)


def log_lines(text):
    out = []
    for line in text.split("\n"):
        m = LOG_LINE.match(line)
        if m:
            out.append(m.groupdict())
    return out


CONTEXT_HANDLER = """
exports.handler = async (event, context) => ({
  event,
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  clientContext: context.clientContext === undefined ? 'undefined' : context.clientContext,
  identity: context.identity === undefined ? 'undefined' : context.identity,
  legacy: [typeof context.succeed, typeof context.fail, typeof context.done],
  trace: process.env._X_AMZN_TRACE_ID === undefined ? null : process.env._X_AMZN_TRACE_ID,
  keys: Object.keys(JSON.parse(JSON.stringify(context))),
  cwd: process.cwd(),
});
"""


def test_async_handler_context_and_keepalive(node_env, version):
    env = node_env(version)
    api, proc = env.start({"index.js": CONTEXT_HANDLER}, "index.handler")
    deadline = int(__import__("time").time() * 1000) + 3000
    post = env.invoke({"k": [1, {"x": None}]}, deadline_ms=deadline)
    assert post.kind == "response"
    assert post.headers["content-type"] == "application/json"
    b = post.json()
    assert b["event"] == {"k": [1, {"x": None}]}
    assert b["awsRequestId"] == post.request_id
    assert b["functionName"] == "fn"
    assert b["functionVersion"] == "$LATEST"
    assert b["invokedFunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert b["memoryLimitInMB"] == "128"  # a string, as on AWS
    assert b["logGroupName"] == "/aws/lambda/fn"
    assert b["logStreamName"].startswith("2024/01/01/[$LATEST]")
    assert 0 < b["remaining"] <= 3000
    assert b["callbackWaitsForEmptyEventLoop"] is True
    assert b["clientContext"] == "undefined" and b["identity"] == "undefined"
    assert b["legacy"] == ["function", "function", "function"]
    assert b["trace"].startswith("Root=1-5759e988")
    assert b["keys"] == [
        "callbackWaitsForEmptyEventLoop",
        "functionVersion",
        "functionName",
        "memoryLimitInMB",
        "logGroupName",
        "logStreamName",
        "invokedFunctionArn",
        "awsRequestId",
    ]
    assert b["cwd"] == env.task_root
    post = env.invoke({}, trace_id=None)
    assert post.json()["trace"] is None
    post = env.invoke(
        {},
        client_context={"custom": {"a": 1}, "env": {"b": 2}},
        cognito_identity={"cognitoIdentityId": "i", "cognitoIdentityPoolId": "p"},
    )
    assert post.json()["clientContext"] == {"custom": {"a": 1}, "env": {"b": 2}}
    assert post.json()["identity"] == {"cognitoIdentityId": "i", "cognitoIdentityPoolId": "p"}
    assert api.connections == 1
    # and nothing but the protocol: next, response, next, ...
    api.wait_next(4)
    methods = [m for m, _ in api.requests]
    assert methods == ["GET", "POST"] * 3 + ["GET"]
    assert all(path == "/2018-06-01/runtime/invocation/next" for m, path in api.requests if m == "GET")
    assert all(path.endswith("/response") for m, path in api.requests if m == "POST")


def test_console_format_and_levels(node_env, version):
    env = node_env(version)
    env.start(
        {
            "index.js": """
console.log('init line');
exports.handler = async (event) => {
  console.log('log %s %d', 'a', 1, {x: 1});
  console.info('info');
  console.warn('warn');
  console.error('error', new Error('e1').message);
  console.debug('debug');
  console.trace('trace');
  console.log('multi\\nline');
  process.stdout.write('raw write\\n');
  return 1;
};
"""
        },
        "index.handler",
    )
    post = env.invoke({})
    lines = log_lines(post.stdout)
    assert lines[0]["rid"] == "undefined" and lines[0]["msg"] == "init line" and lines[0]["level"] == "INFO"
    got = [(l["level"], l["msg"]) for l in lines[1:]]
    assert got == [
        ("INFO", "log a 1 { x: 1 }"),
        ("INFO", "info"),
        ("WARN", "warn"),
        ("ERROR", "error e1"),
        ("DEBUG", "debug"),
        ("TRACE", "trace"),
        ("INFO", "multi\rline"),
    ]
    assert all(l["rid"] == post.request_id for l in lines[1:])
    assert "raw write\n" in post.stdout


def test_log_level_filter_and_json_format(node_env, version):
    env = node_env(version)
    env.start(
        {
            "index.js": """
exports.handler = async () => {
  console.info('hidden');
  console.warn('shown', {a: 1});
  console.error(new TypeError('bad'));
  return 1;
};
"""
        },
        "index.handler",
        env={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN"},
    )
    post = env.invoke({})
    records = [json.loads(l) for l in post.stdout.strip().split("\n")]
    assert len(records) == 2
    warn, err = records
    assert warn["level"] == "WARN" and warn["message"] == "shown { a: 1 }" and warn["requestId"] == post.request_id
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", warn["timestamp"])
    assert err["level"] == "ERROR"
    assert err["message"]["errorType"] == "TypeError"
    assert err["message"]["errorMessage"] == "bad"
    assert err["message"]["stackTrace"][0] == "TypeError: bad"


def test_callback_handler_waits_for_empty_event_loop(node_env, version):
    env = node_env(version)
    env.start(
        {
            "index.js": """
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => console.log('timer fired'), 30);
  callback(null, {wait: event.wait});
};
"""
        },
        "index.handler",
        env={"AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING": "1"},
    )
    post = env.invoke({"wait": True})
    assert post.json() == {"wait": True}
    assert "timer fired" in post.stdout  # the response waited for the timer
    post = env.invoke({"wait": False})
    assert post.json() == {"wait": False}
    assert post.stdout.count("timer fired") == 1  # posted before this invoke's timer fired


def test_callback_warning_is_logged_at_init(node_env, version):
    env = node_env(version)
    env.start({"index.js": "exports.handler = (e, c, cb) => cb(null, 1);\n"}, "index.handler")
    post = env.invoke({})
    assert post.body == b"1"
    warn = [l for l in log_lines(post.stdout) if l["level"] == "WARN"]
    assert warn and warn[0]["msg"].startswith("AWS Lambda plans to remove support for callback-based function handlers")


def test_sync_and_promise_returning_handlers(node_env, version):
    env = node_env(version)
    env.start(
        {
            "index.js": """
exports.sync = (event, context) => ({ignored: true});
exports.promise = (event, context) => Promise.resolve({from: 'promise'});
exports.undef = async () => undefined;
exports.legacySucceed = (event, context) => { context.succeed({legacy: 'succeed'}); };
exports.legacyDone = (event, context) => { context.done(null, 'done'); };
exports.legacyFail = (event, context) => { context.fail(new Error('failed')); };
exports.failNoArg = (event, context) => { context.fail(); };
exports.twice = (event, context, cb) => { cb(null, 'first'); cb(null, 'second'); };
"""
        },
        "index.sync",
        env={"AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING": "1"},
    )
    # A non-async handler's return value is ignored: AWS answers null once the loop is empty.
    assert env.invoke({}).body == b"null"


@pytest.mark.parametrize(
    "handler,kind,expected",
    [
        ("index.promise", "response", {"from": "promise"}),
        ("index.undef", "response", None),
        ("index.legacySucceed", "response", {"legacy": "succeed"}),
        ("index.legacyDone", "response", "done"),
        ("index.twice", "response", "first"),
        ("index.legacyFail", "error", {"errorType": "Error", "errorMessage": "failed"}),
        ("index.failNoArg", "error", {"errorType": "string", "errorMessage": "handled", "trace": []}),
    ],
)
def test_handler_styles(node_env, version, handler, kind, expected):
    env = node_env(version)
    env.start(
        {
            "index.js": """
exports.promise = (event, context) => Promise.resolve({from: 'promise'});
exports.undef = async () => undefined;
exports.legacySucceed = (event, context) => { context.succeed({legacy: 'succeed'}); };
exports.legacyDone = (event, context) => { context.done(null, 'done'); };
exports.legacyFail = (event, context) => { context.fail(new Error('failed')); };
exports.failNoArg = (event, context) => { context.fail(); };
exports.twice = (event, context, cb) => { cb(null, 'first'); cb(null, 'second'); };
"""
        },
        handler,
        env={"AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING": "1"},
    )
    post = env.invoke({})
    assert post.kind == kind
    body = post.json()
    if kind == "error":
        for k, v in expected.items():
            assert body[k] == v
        assert post.headers["lambda-runtime-function-error-type"] == expected["errorType"]
    else:
        assert body == expected


def test_thrown_error_shape_and_log(node_env, version):
    env = node_env(version)
    env.start(
        {
            "index.js": """
class CustomError extends Error { constructor(m) { super(m); this.name = 'CustomError'; this.code = 42; } }
exports.handler = async (event) => {
  if (event.kind === 'custom') throw new CustomError('custom failure');
  if (event.kind === 'string') throw 'just a string';
  throw new Error('some_error_msg');
};
"""
        },
        "index.handler",
    )
    post = env.invoke({"kind": "plain"})
    assert post.kind == "error"
    body = post.json()
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "some_error_msg"
    assert body["trace"][0] == "Error: some_error_msg"
    assert body["trace"][1].startswith("    at exports.handler (%s" % os.path.join(env.task_root, "index.js"))
    assert post.headers["lambda-runtime-function-error-type"] == "Error"
    err_line = [l for l in log_lines(post.stdout) if l["level"] == "ERROR"][0]
    assert err_line["rid"] == post.request_id
    assert err_line["msg"].startswith("Invoke Error \t{")
    logged = json.loads(err_line["msg"][len("Invoke Error \t"):])
    assert logged["errorType"] == "Error" and logged["errorMessage"] == "some_error_msg"
    assert logged["stack"][0] == "Error: some_error_msg"

    post = env.invoke({"kind": "custom"})
    body = post.json()
    assert body["errorType"] == "CustomError" and body["errorMessage"] == "custom failure"
    logged = json.loads([l for l in log_lines(post.stdout) if l["rid"] == post.request_id][0]["msg"].split("\t", 1)[1])
    assert logged["code"] == 42

    post = env.invoke({"kind": "string"})
    assert post.json() == {"errorType": "string", "errorMessage": "just a string", "trace": []}


def test_callback_error(node_env, version):
    env = node_env(version)
    env.start(
        {"index.js": "exports.handler = (e, c, cb) => cb(new RangeError('out of range'));\n"},
        "index.handler",
        env={"AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING": "1"},
    )
    body = env.invoke({}).json()
    assert body["errorType"] == "RangeError" and body["errorMessage"] == "out of range"


def test_never_settled_async_handler(node_env, version):
    env = node_env(version)
    env.start({"index.js": "exports.handler = async () => { await new Promise(() => {}); };\n"}, "index.handler")
    post = env.invoke({})
    body = post.json()
    assert body["errorType"] == "Runtime.NodeJsExit"
    assert body["errorMessage"].startswith("The Lambda runtime client detected an unexpected Node.js exit code.")
    # still serving
    assert env.invoke({}).kind == "error"


def test_uncaught_exception_during_invoke(node_env, version):
    env = node_env(version)
    env.start(
        {"index.js": "exports.handler = async () => { setTimeout(() => { throw new Error('async boom'); }, 0); await new Promise(r => setTimeout(r, 1000)); };\n"},
        "index.handler",
    )
    post = env.invoke({})
    assert post.kind == "error"
    assert post.json()["errorMessage"] == "async boom"
    assert "Uncaught Exception \t{" in post.stdout
    assert env.proc.wait_exit() == 129


def test_unhandled_rejection_during_invoke(node_env, version):
    env = node_env(version)
    env.start(
        {"index.js": "exports.handler = async () => { Promise.reject(new Error('nobody catches')); await new Promise(r => setTimeout(r, 1000)); };\n"},
        "index.handler",
    )
    post = env.invoke({})
    body = post.json()
    assert body["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert body["errorMessage"] == "Error: nobody catches"
    assert env.proc.wait_exit() == 128


def test_unserializable_result(node_env, version):
    env = node_env(version)
    env.start(
        {"index.js": "exports.handler = async (e) => { if (e.big) return {n: 1n}; const a = {}; a.a = a; return a; };\n"},
        "index.handler",
    )
    for event in ({}, {"big": True}):
        body = env.invoke(event).json()
        assert body["errorType"] == "Error"
        assert body["errorMessage"] == "Unable to stringify response body"


def test_bad_event_json(node_env, version):
    env = node_env(version)
    env.start({"index.js": "exports.handler = async (e) => e;\n"}, "index.handler")
    body = env.invoke(raw=b"{nope").json()
    assert body["errorType"] == "SyntaxError"


def _init_error(env):
    post = env.api.wait_post()
    assert post.kind == "init_error", post
    assert env.proc.wait_exit() == 129
    body = post.json()
    assert post.headers["lambda-runtime-function-error-type"] == body["errorType"]
    line = [l for l in log_lines(post.stdout) if l["level"] == "ERROR"][0]
    assert line["rid"] == "undefined"
    assert line["msg"].startswith("Uncaught Exception \t{")
    logged = json.loads(line["msg"][len("Uncaught Exception \t"):].replace("\r", "\n"))
    assert logged["errorType"] == body["errorType"]
    return body


def test_init_error_missing_module(node_env, version):
    env = node_env(version)
    env.start({}, "index.handler")
    body = _init_error(env)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Error: Cannot find module 'index'\nRequire stack:\n- %s" % NODE_CLIENT
    assert body["trace"][0] == "Runtime.ImportModuleError: Error: Cannot find module 'index'"


def test_init_error_missing_dependency(node_env, version):
    env = node_env(version)
    env.start({"index.js": "require('left-pad-nimbus-missing');\nexports.handler = async () => 1;\n"}, "index.handler")
    body = _init_error(env)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Error: Cannot find module 'left-pad-nimbus-missing'\nRequire stack:\n- ")


@pytest.mark.parametrize(
    "handler,error_type,message",
    [
        ("index.nope", "Runtime.HandlerNotFound", "index.nope is undefined or not exported"),
        ("index.value", "Runtime.HandlerNotFound", "index.value is not a function"),
        ("index", "Runtime.MalformedHandlerName", "Bad handler"),
        (
            "../index.handler",
            "Runtime.MalformedHandlerName",
            "'../index.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
        ),
    ],
)
def test_init_error_handler_resolution(node_env, version, handler, error_type, message):
    env = node_env(version)
    env.start({"index.js": "exports.value = 42;\nexports.handler = async () => 1;\n"}, handler)
    body = _init_error(env)
    assert body["errorType"] == error_type
    assert body["errorMessage"] == message


def test_init_error_syntax(node_env, version):
    env = node_env(version)
    env.start({"index.js": "exports.handler = async () => {\n"}, "index.handler")
    body = _init_error(env)
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("SyntaxError: ")


def test_init_error_thrown_at_load(node_env, version):
    env = node_env(version)
    env.start({"index.js": "throw new TypeError('startup fails');\n"}, "index.handler")
    body = _init_error(env)
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "startup fails"


@pytest.mark.parametrize(
    "files,handler",
    [
        ({"index.mjs": "export const handler = async () => 'esm-mjs';\n"}, "index.handler"),
        ({"package.json": '{"type": "module"}', "index.js": "export const handler = async () => 'esm-js';\n"}, "index.handler"),
        ({"index.cjs": "exports.handler = async () => 'cjs';\n"}, "index.handler"),
        ({"src/app/main.js": "exports.handler = async () => 'nested-dir';\n"}, "src/app/main.handler"),
        ({"src/app.mjs": "export default { run: async () => 'esm-default-nested' };\n"}, "src/app.default.run"),
        ({"index.js": "exports.api = { v1: { get: async () => 'nested-prop' } };\n"}, "index.api.v1.get"),
        ({"lib": "exports.handler = async () => 'extensionless';\n"}, "lib.handler"),
        ({"node_modules/somepkg/index.js": "exports.handler = async () => 'from-node_modules';\n"}, "somepkg.handler"),
    ],
    ids=["mjs", "type-module-js", "cjs", "dir", "esm-default", "nested-prop", "extensionless", "node_modules"],
)
def test_module_kinds(node_env, version, files, handler):
    env = node_env(version)
    env.start(files, handler)
    post = env.invoke({})
    assert post.kind == "response", (post, env.proc.output())
    assert post.json() in (
        "esm-mjs", "esm-js", "cjs", "nested-dir", "esm-default-nested", "nested-prop", "extensionless", "from-node_modules",
    )


def test_node_path_default_and_user_override(node_env, version, tmp_path):
    env = node_env(version)
    env.start(
        {"index.js": "exports.handler = async () => process.env.NODE_PATH;\n"},
        "index.handler",
    )
    paths = env.invoke({}).json().split(":")
    assert paths[0] == "/opt/nodejs/node%s/node_modules" % version
    assert paths[1:] == ["/opt/nodejs/node_modules", env.task_root]

    lib = tmp_path / "shared-lib"
    (lib / "sharedmod").mkdir(parents=True)
    (lib / "sharedmod" / "index.js").write_text("module.exports = 'shared';\n")
    env2 = node_env(version)
    env2.start({"index.js": "const s = require('sharedmod');\nexports.handler = async () => s;\n"}, "index.handler", env={"NODE_PATH": str(lib)})
    assert env2.invoke({}).json() == "shared"


def test_large_and_unicode_event(node_env, version):
    env = node_env(version)
    env.start({"index.js": "exports.handler = async (e) => e;\n"}, "index.handler")
    event = {"blob": "x" * (3 * 1024 * 1024), "u": "\u00fc\u4e16\U0001f600"}
    assert json.loads(env.invoke(event).body) == event


@pytest.mark.parametrize("chunked,trickle", [(True, False), (True, True), (False, True)], ids=["chunked", "chunked-trickle", "length-trickle"])
def test_next_response_framing(node_env, version, chunked, trickle):
    env = node_env(version)
    api, _ = env.start({"index.js": "exports.handler = async (e) => e;\n"}, "index.handler")
    api.chunked_next = chunked
    api.trickle_next = trickle
    n = 5000 if not trickle else 60
    assert env.invoke({"a": "b" * n, "u": "\u00fc\u4e16"}).json() == {"a": "b" * n, "u": "\u00fc\u4e16"}
    assert env.invoke({"second": True}).json() == {"second": True}
    assert env.invoke({}).json() == {}


@pytest.mark.parametrize("how", [True, "header"], ids=["silently", "connection-close"])
def test_reconnects_when_connection_dropped(node_env, version, how):
    env = node_env(version)
    api, _ = env.start({"index.js": "exports.handler = async (e) => e.n;\n"}, "index.handler")
    api.close_after_post = how
    for n in range(3):
        assert env.invoke({"n": n}).body == str(n).encode()
    api.wait_next(4)
    assert api.connections == 4


def test_streaming_handler(node_env, version):
    env = node_env(version)
    env.start(
        {
            "index.mjs": """
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('hello ');
  responseStream.write(context.awsRequestId);
  responseStream.end();
});
"""
        },
        "index.handler",
    )
    post = env.invoke({})
    assert post.kind == "response"
    assert post.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert post.headers["content-type"] == "text/plain"
    assert post.body == ("hello " + post.request_id).encode()
    assert env.invoke({}).kind == "response"  # keeps serving


def test_sigterm_exits_cleanly(node_env, version):
    env = node_env(version)
    api, proc = env.start({"index.js": "exports.handler = async () => 1;\n"}, "index.handler")
    assert env.invoke({}).body == b"1"
    api.wait_next(2)
    send_sigterm(proc)
    assert proc.wait_exit() == 0


def test_process_exit_in_handler(node_env, version):
    env = node_env(version)
    env.start({"index.js": "exports.handler = async () => process.exit(7);\n"}, "index.handler")
    env.api.invoke({})
    assert env.proc.wait_exit() == 7


def test_large_output_reaches_pipe_before_post(node_env, version):
    # More than a pipe buffer: node queues the rest of the write asynchronously, and the
    # runtime must let it drain before it posts (the log tail is read right after the post).
    env = node_env(version)
    env.start(
        {
            "index.js": """
exports.handler = async () => {
  for (let i = 0; i < 64; i++) console.log('x'.repeat(64 * 1024));
  console.log('LAST LINE');
  return 1;
};
"""
        },
        "index.handler",
    )
    for _ in range(3):
        post = env.invoke({})
        assert post.stdout.rstrip("\n").endswith("\tLAST LINE")
        assert post.stdout.count("LAST LINE") == _ + 1

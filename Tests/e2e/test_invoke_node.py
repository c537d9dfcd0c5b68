"""nodejs20.x: async and callback handlers, the error shape, the context object."""

import base64
import json
import re

from helpers import function_arn, log_tail, payload_json

SOURCE = r"""
exports.asyncHandler = async (event, context) => {
  console.log("node-async-log", JSON.stringify(event));
  return {
    kind: "async",
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
    nodeMajor: process.versions.node.split(".")[0],
    execEnv: process.env.AWS_EXECUTION_ENV,
    clientContext: context.clientContext,
  };
};

exports.callbackHandler = (event, context, callback) => {
  console.log("node-callback-log");
  setTimeout(() => callback(null, { kind: "callback", event, id: context.awsRequestId }), 20);
};

exports.callbackError = (event, context, callback) => {
  callback(new Error("callback failed"));
};

exports.nothing = async () => {};

exports.throwHandler = async (event) => {
  throw new TypeError("node went wrong");
};
"""

NODE_LOG_LINE = r"\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}\.\d{{3}}Z\t{id}\tINFO\t{text}"


def test_async_handler_and_context(lam, functions):
    name = functions.node(SOURCE, handler="index.asyncHandler")
    cc = {"custom": {"foo": "bar"}, "client": {"snap": ["crackle", "pop"]}, "env": {"fizz": "buzz"}}
    r = lam.invoke(
        FunctionName=name, Payload=json.dumps({"n": 1}), LogType="Tail",
        ClientContext=base64.b64encode(json.dumps(cc).encode()).decode(),
    )  # fmt: skip
    assert r["StatusCode"] == 200 and "FunctionError" not in r
    rid = r["ResponseMetadata"]["RequestId"]
    body = payload_json(r)
    assert body["kind"] == "async"
    assert body["event"] == {"n": 1}
    assert body["awsRequestId"] == rid
    assert body["functionName"] == name
    assert body["functionVersion"] == "$LATEST"
    assert body["invokedFunctionArn"] == function_arn(name)
    assert body["memoryLimitInMB"] == "128"
    assert body["logGroupName"] == f"/aws/lambda/{name}"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", body["logStreamName"]), body["logStreamName"]
    assert 0 < body["remaining"] <= 3000
    assert body["callbackWaitsForEmptyEventLoop"] is True
    assert body["nodeMajor"] == "20"
    assert body["execEnv"] == "AWS_Lambda_nodejs20.x"
    assert body["clientContext"] == cc
    tail = log_tail(r)
    assert re.search(NODE_LOG_LINE.format(id=re.escape(rid), text=re.escape('node-async-log {"n":1}')), tail), tail


def test_callback_handler(lam, functions):
    name = functions.node(SOURCE, handler="index.callbackHandler")
    r = lam.invoke(FunctionName=name, Payload=b'{"cb":true}', LogType="Tail")
    rid = r["ResponseMetadata"]["RequestId"]
    assert "FunctionError" not in r
    assert payload_json(r) == {"kind": "callback", "event": {"cb": True}, "id": rid}
    assert re.search(NODE_LOG_LINE.format(id=re.escape(rid), text="node-callback-log"), log_tail(r))


def test_no_return_value_is_null(lam, functions):
    name = functions.node(SOURCE, handler="index.nothing")
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in r
    assert r["Payload"].read() == b"null"


def test_thrown_error_shape(lam, functions):
    name = functions.node(SOURCE, handler="index.throwHandler")
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    body = payload_json(r)
    assert set(body) == {"errorType", "errorMessage", "trace"}, body
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "node went wrong"
    assert body["trace"][0] == "TypeError: node went wrong"
    assert all(line.startswith("    at ") for line in body["trace"][1:])


def test_callback_error(lam, functions):
    name = functions.node(SOURCE, handler="index.callbackError")
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert r["FunctionError"] == "Unhandled"
    body = payload_json(r)
    assert (body["errorType"], body["errorMessage"]) == ("Error", "callback failed")
    assert body["trace"][0] == "Error: callback failed"

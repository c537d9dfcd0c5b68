"""The same lifecycle through the AWS CLI v2 (Debian's awscli package), as a user would type it."""

import base64
import json
import re

from helpers import PY, REPORT_RE, ROLE, function_arn, not_found_message, poll, py_zip, unique

HANDLER = """
import json, os

def handler(event, context):
    print("cli-print " + json.dumps(event, sort_keys=True))
    out = os.environ.get("OUT_DIR")
    if out and event.get("write"):
        tmp = os.path.join(out, context.aws_request_id + ".tmp")
        with open(tmp, "w") as f:
            f.write(context.aws_request_id)
        os.rename(tmp, os.path.join(out, context.aws_request_id + ".done"))
    return {"v": VERSION, "event": event, "requestId": context.aws_request_id,
            "memory": context.memory_limit_in_mb, "myVar": os.environ.get("MY_VAR")}
"""


def test_full_scenario_awscli(aws, functions, tmp_path):
    name = unique("cli")
    functions.track(name)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    zip1 = tmp_path / "v1.zip"
    zip1.write_bytes(py_zip(HANDLER.replace("VERSION", "1")))
    zip2 = tmp_path / "v2.zip"
    zip2.write_bytes(py_zip(HANDLER.replace("VERSION", "2")))
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"a": 1}))

    created = json.loads(
        aws(
            "lambda", "create-function", "--function-name", name, "--runtime", PY, "--role", ROLE,
            "--handler", "app.handler", "--zip-file", f"fileb://{zip1}",
            "--environment", json.dumps({"Variables": {"OUT_DIR": str(out_dir)}}),
        ).stdout
    )  # fmt: skip
    assert created["FunctionArn"] == function_arn(name)
    assert created["State"] == "Pending"
    aws("lambda", "wait", "function-active-v2", "--function-name", name)
    got = json.loads(aws("lambda", "get-function", "--function-name", name).stdout)
    assert got["Configuration"]["State"] == "Active"

    # RequestResponse with the log tail.
    result = json.loads(
        aws("lambda", "invoke", "--function-name", name, "--payload", f"fileb://{event}",
            "--log-type", "Tail", str(tmp_path / "out1.json")).stdout
    )  # fmt: skip
    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in result
    body = json.loads((tmp_path / "out1.json").read_text())
    assert body["v"] == 1 and body["event"] == {"a": 1}
    tail = base64.b64decode(result["LogResult"]).decode()
    assert f"START RequestId: {body['requestId']} Version: $LATEST" in tail
    assert 'cli-print {"a": 1}' in tail
    assert REPORT_RE.search(tail).group("id") == body["requestId"]

    # Event and DryRun.
    write_event = tmp_path / "write.json"
    write_event.write_text(json.dumps({"write": True}))
    result = json.loads(
        aws("lambda", "invoke", "--function-name", name, "--invocation-type", "Event",
            "--payload", f"fileb://{write_event}", str(tmp_path / "out2.json")).stdout
    )  # fmt: skip
    assert result["StatusCode"] == 202
    poll(lambda: any(p.suffix == ".done" for p in out_dir.iterdir()), timeout=20, what="the Event invocation")
    result = json.loads(
        aws("lambda", "invoke", "--function-name", name, "--invocation-type", "DryRun",
            str(tmp_path / "out3.json")).stdout
    )  # fmt: skip
    assert result["StatusCode"] == 204

    # Update code, then configuration; the waiters return at once.
    upd = json.loads(aws("lambda", "update-function-code", "--function-name", name, "--zip-file", f"fileb://{zip2}").stdout)
    assert upd["LastUpdateStatus"] == "InProgress"
    aws("lambda", "wait", "function-updated-v2", "--function-name", name)
    aws("lambda", "invoke", "--function-name", name, str(tmp_path / "out4.json"))
    assert json.loads((tmp_path / "out4.json").read_text())["v"] == 2

    upd = json.loads(
        aws("lambda", "update-function-configuration", "--function-name", name, "--memory-size", "512",
            "--timeout", "7", "--environment", json.dumps({"Variables": {"MY_VAR": "from-cli"}})).stdout
    )  # fmt: skip
    assert (upd["MemorySize"], upd["Timeout"]) == (512, 7)
    aws("lambda", "wait", "function-updated-v2", "--function-name", name)
    aws("lambda", "invoke", "--function-name", name, str(tmp_path / "out5.json"))
    body = json.loads((tmp_path / "out5.json").read_text())
    assert (body["myVar"], body["memory"]) == ("from-cli", "512")

    listed = json.loads(aws("lambda", "list-functions").stdout)
    assert name in [f["FunctionName"] for f in listed["Functions"]]

    # Delete; get then fails with AWS's message.
    deleted = aws("lambda", "delete-function", "--function-name", name)
    assert deleted.stdout.strip() == ""  # 204 without a body: the v2 CLI prints nothing
    missing = aws("lambda", "get-function", "--function-name", name, check=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    assert not_found_message(name) in missing.stderr


def test_awscli_error_exit_status(aws):
    name = unique("cli-missing")
    proc = aws("lambda", "delete-function", "--function-name", name, check=False)
    assert proc.returncode != 0
    # The v2 CLI adds how many retries it made (AWS_MAX_ATTEMPTS=1: none).
    assert re.search(
        r"\(ResourceNotFoundException\) when calling the DeleteFunction operation( \(reached max retries: 0\))?: "
        + re.escape(not_found_message(name)), proc.stderr), proc.stderr

"""CloudWatch Logs (FilterLogEvents, GetLogEvents, DescribeLogStreams, DescribeLogGroups) and the nimbus CLI."""

import datetime
import json
import subprocess

import pytest

from helpers import LOG_STREAM_RE, PY, REPORT_RE, aws_cli, function_arn, poll, run_cmd, unique

PRINTER = """
import os
def handler(event, context):
    print("logged-line " + str(event.get("n")))
    return {"n": event.get("n"), "stream": context.log_stream_name}
"""


def _messages(events):
    return [e["message"].rstrip("\n") for e in events]


def _all_filtered(logs, group, **kwargs):
    events, token = [], None
    for _ in range(100):
        params = dict(logGroupName=group, **kwargs)
        if token:
            params["nextToken"] = token
        page = logs.filter_log_events(**params)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events
    pytest.fail("FilterLogEvents kept returning nextToken")


def _has_invocation_lines(messages, rid, printed):
    return (
        any(m.startswith(f"START RequestId: {rid} Version: $LATEST") for m in messages)
        and any(m == f"END RequestId: {rid}" for m in messages)
        and any(m.startswith(f"REPORT RequestId: {rid}\t") for m in messages)
        and printed in messages
    )


def test_cloudwatch_logs_api(lam, logs, functions):
    name = functions.python(PRINTER)
    group = f"/aws/lambda/{name}"
    ids = []
    streams_seen = set()
    for n in (1, 2):
        r = lam.invoke(FunctionName=name, Payload=json.dumps({"n": n}))
        ids.append(r["ResponseMetadata"]["RequestId"])
        streams_seen.add(json.loads(r["Payload"].read())["stream"])

    # Logs are eventually consistent on AWS: poll (bounded) until both invocations are visible.
    def complete():
        messages = _messages(_all_filtered(logs, group))
        ok = all(_has_invocation_lines(messages, rid, f"logged-line {n}") for rid, n in zip(ids, (1, 2)))
        return messages if ok else None

    messages = poll(complete, timeout=20, interval=0.1, what="START/END/REPORT and printed lines in FilterLogEvents")
    for rid in ids:
        report = next(m for m in messages if m.startswith(f"REPORT RequestId: {rid}"))
        assert REPORT_RE.match(report + ("\t" if not report.endswith("\t") else "")), report
    events = _all_filtered(logs, group)
    for e in events:
        assert set(e) >= {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}, e
        assert isinstance(e["timestamp"], int)
    timestamps = [e["timestamp"] for e in events]
    now_ms = datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000
    assert all(abs(now_ms - t) < 600_000 for t in timestamps)

    # filterPattern narrows the result.
    only = _messages(_all_filtered(logs, group, filterPattern='"logged-line 2"'))
    assert only == ["logged-line 2"], only

    # Log streams: one per execution environment, named YYYY/MM/DD/[$LATEST]<32 hex>.
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    names = [s["logStreamName"] for s in streams]
    assert names, "no log streams"
    for stream_name in names:
        assert LOG_STREAM_RE.match(stream_name), stream_name
    assert streams_seen <= set(names), (streams_seen, names)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    for stream_name in names:
        day = datetime.datetime.strptime(stream_name[:10], "%Y/%m/%d").date()
        assert abs((today - day).days) <= 1

    got = logs.get_log_events(logGroupName=group, logStreamName=next(iter(streams_seen)), startFromHead=True)
    assert "logged-line 1" in _messages(got["events"])

    groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]

    missing = f"/aws/lambda/{unique('nolog')}"
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.filter_log_events(logGroupName=missing)


def test_awscli_filter_log_events(lam, functions, endpoint, cli_env):
    cli = aws_cli()
    name = functions.python(PRINTER)
    rid = lam.invoke(FunctionName=name, Payload=b'{"n": 7}')["ResponseMetadata"]["RequestId"]

    def fetch():
        proc = run_cmd(
            [cli, "logs", "filter-log-events", "--log-group-name", f"/aws/lambda/{name}",
             "--endpoint-url", endpoint, "--output", "json"],
            env=cli_env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        messages = _messages(json.loads(proc.stdout)["events"])
        return messages if _has_invocation_lines(messages, rid, "logged-line 7") else None

    poll(fetch, timeout=20, interval=0.2, what="the invocation's lines through `aws logs filter-log-events`")


# ------------------------------------------------------------------------------------------
# The nimbus CLI
# ------------------------------------------------------------------------------------------


@pytest.fixture
def nimbus_cli(nimbus_bin, endpoint, tmp_path):
    def run(*args):
        return run_cmd([nimbus_bin, *args, "--endpoint", endpoint], cwd=str(tmp_path), timeout=120)

    return run


def test_nimbus_cli(nimbus_cli, lam, functions, tmp_path):
    name = unique("ncli")
    functions.track(name)
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text(
        "import os\ndef handler(event, context):\n    print('cli-log-line')\n"
        "    if event.get('fail'):\n        raise RuntimeError('cli boom')\n"
        "    return {'v': 1, 'event': event, 'mode': os.environ.get('MODE')}\n"
    )

    # deploy: create.
    proc = nimbus_cli("deploy", name, "--runtime", PY, "--handler", "app.handler", "--dir", str(src), "--env", "MODE=one")
    assert proc.returncode == 0, proc.stderr
    assert f"Created {name}" in proc.stdout
    assert function_arn(name) in proc.stdout
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["Runtime"] == PY and cfg["Environment"] == {"Variables": {"MODE": "one"}}

    # invoke: result on stdout, log tail on stderr, exit 0.
    proc = nimbus_cli("invoke", name, "--payload", '{"a": 1}')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"v": 1, "event": {"a": 1}, "mode": "one"}
    assert "START RequestId:" in proc.stderr and "cli-log-line" in proc.stderr

    # A function error: exit 1, the error JSON printed.
    proc = nimbus_cli("invoke", name, "--payload", '{"fail": true}')
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert json.loads(proc.stdout)["errorMessage"] == "cli boom"

    # deploy again: update code and configuration.
    (src / "app.py").write_text(
        "import os\ndef handler(event, context):\n    return {'v': 2, 'mode': os.environ.get('MODE')}\n"
    )
    proc = nimbus_cli(
        "deploy", name, "--runtime", PY, "--handler", "app.handler", "--dir", str(src), "--env", "MODE=two",
        "--memory", "256", "--timeout", "5",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"Updated {name}" in proc.stdout
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["MemorySize"], cfg["Timeout"]) == (256, 5)
    proc = nimbus_cli("invoke", name, "--no-logs")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"v": 2, "mode": "two"}

    # list.
    proc = nimbus_cli("list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["NAME", "RUNTIME"]
    row = next(line for line in lines if line.split()[0] == name)
    assert PY in row and "256 MB" in row

    # logs.
    def logged():
        p = nimbus_cli("logs", name)
        assert p.returncode == 0, p.stderr
        return p.stdout if ("START RequestId:" in p.stdout and "cli-log-line" in p.stdout and "REPORT RequestId:" in p.stdout) else None

    out = poll(logged, timeout=20, interval=0.2, what="`nimbus logs` to print the invocation")
    assert "END RequestId:" in out

    # delete, then everything about it fails with exit 2.
    proc = nimbus_cli("delete", name)
    assert proc.returncode == 0, proc.stderr
    assert f"Deleted {name}" in proc.stdout
    proc = nimbus_cli("delete", name)
    assert proc.returncode == 2
    assert "Function not found" in proc.stderr
    proc = nimbus_cli("invoke", name)
    assert proc.returncode == 2
    assert "ResourceNotFoundException" in proc.stderr or "Function not found" in proc.stderr


def test_nimbus_cli_unreachable_endpoint(nimbus_bin, tmp_path):
    """A refused connection is reported at once (exit 2, a message naming the endpoint), not after a long wait."""
    # Port 9 (discard) on loopback: nothing listens there, so connect() is refused immediately.
    try:
        proc = run_cmd([nimbus_bin, "list", "--endpoint", "http://127.0.0.1:9"], cwd=str(tmp_path), timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("`nimbus list` against a closed port did not exit within 15 s (connection refused is immediate)")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "http://127.0.0.1:9" in proc.stderr

"""Runs last (file order): SIGTERM the session's server; it must exit 0 within 20 s and leave no process.

If this file is not selected, the session fixture's teardown performs and reports the same check.
"""

import json
import os

import pytest

from helpers import make_zip, pid_alive, shutdown_problems

STATE = {}


def _test_runtime():
    path = os.environ.get("NIMBUS_TEST_RUNTIME") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        ".build", "debug", "nimbus-test-runtime",
    )  # fmt: skip
    return path if os.access(path, os.X_OK) else None


def test_server_shuts_down_cleanly(nimbus, lam, functions):
    # Leave warm environments behind on purpose, so that shutdown has children to stop.
    for _ in range(2):
        name = functions.python("import os\ndef handler(e, c):\n    return os.getpid()\n")
        assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200
    # And a function that leaves a detached (double-forked, setsid) grandchild running; checked separately below.
    runtime = _test_runtime()
    if runtime:
        with open(runtime, "rb") as f:
            code = make_zip({"bootstrap": (f.read(), 0o755)})
        name = functions.create(code, runtime="provided.al2023", handler="fork")["FunctionName"]
        r = lam.invoke(FunctionName=name, Payload=b"{}")
        assert "FunctionError" not in r
        STATE["grandchild"] = json.loads(r["Payload"].read())["grandchild"]
        assert pid_alive(STATE["grandchild"])
    functions.names.clear()  # do not delete them: the server must clean them up itself
    assert nimbus.alive(), "the server died during the session:\n" + nimbus.stderr_text(4000)

    report = nimbus.stop()
    STATE["report"] = report
    # The detached grandchild is judged by the next test; everything else must be gone.
    report = dict(report, leftovers={p: c for p, c in report["leftovers"].items() if p != STATE.get("grandchild")})
    problems = shutdown_problems(report)
    assert not problems, "; ".join(problems) + "\n--- server stderr ---\n" + nimbus.stderr_text(4000)
    assert report["seconds"] is not None and report["seconds"] <= 20
    # The check above is only meaningful if the warm environments were seen before shutdown.
    assert report["tracked"] >= 2, f"expected to see the warm runtime processes before shutdown: {report}"


@pytest.mark.after_shutdown
def test_detached_grandchild_did_not_survive_shutdown():
    """On AWS the whole sandbox goes away; a function's detached background process must not outlive Nimbus."""
    if "report" not in STATE:
        pytest.skip("the shutdown test did not run")
    if "grandchild" not in STATE:
        pytest.skip("the compiled test runtime (nimbus-test-runtime) is not built")
    pid = STATE["grandchild"]
    left = STATE["report"]["leftovers"]
    assert pid not in left, f"the function's detached grandchild (pid {pid}, {left.get(pid)!r}) outlived the server"

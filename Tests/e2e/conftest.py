"""Session fixtures for the Nimbus end-to-end suite.

One `nimbus serve` per test session, on 127.0.0.1 with an OS-chosen port and a fresh data directory.
Tests talk to it through unmodified boto3, the AWS CLI, raw HTTP and the nimbus CLI, and assert
what AWS Lambda itself does (golden data: shared/data/aws-recorded, spec: shared/docs/lambda-spec.md).

At the end of the session the server gets SIGTERM; it must exit 0 within 20 s and leave no
process behind (every descendant, and every process that mentions the session's data directory).
"""

import os
import signal
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(__file__))
pytest.register_assert_rewrite("helpers")

import helpers  # noqa: E402
from servers import _pids, _stat, descendants, follow_banner  # noqa: E402
from helpers import PY, REGION, ROLE, shutdown_problems, unique  # noqa: E402

START_LIMIT = 60.0
STOP_LIMIT = 20.0
PER_TEST_LIMIT = 90  # seconds; a hung test fails instead of hanging the suite


def _nimbus_bin():
    return os.environ.get("NIMBUS_BIN") or os.path.join(helpers.REPO, ".build", "debug", "nimbus")


def _test_runtime_bin():
    return os.environ.get("NIMBUS_TEST_RUNTIME") or os.path.join(helpers.REPO, ".build", "debug", "nimbus-test-runtime")


# ------------------------------------------------------------------------------------------
# Per-test time limit (no pytest-timeout on this machine)
# ------------------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    def on_alarm(signum, frame):
        raise TimeoutError(f"{item.nodeid} exceeded {PER_TEST_LIMIT}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(PER_TEST_LIMIT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pytest_collection_modifyitems(session, config, items):
    """The shutdown tests stop the session's server, so they always run last, whatever the command line."""
    last = [i for i in items if i.module.__name__.endswith("test_zz_shutdown")]
    items[:] = [i for i in items if i not in last] + last


@pytest.fixture(autouse=True)
def _server_still_running(request):
    if request.node.get_closest_marker("after_shutdown"):
        return
    server = request.getfixturevalue("nimbus")
    if server.stop_report is not None:
        pytest.skip("the session's server has already been shut down")


# ------------------------------------------------------------------------------------------
# Process bookkeeping
# ------------------------------------------------------------------------------------------


def _mentions(pid, marker):
    """True if the process's command line, environment or working directory mentions marker."""
    marker_b = marker.encode()
    for name in ("cmdline", "environ"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                if marker_b in f.read():
                    return True
        except OSError:
            pass
    try:
        return os.readlink(f"/proc/{pid}/cwd").startswith(marker)
    except OSError:
        return False


def _session_processes(server_pid, marker):
    """{pid: starttime} of live (non-zombie) processes that belong to this session's server."""
    me = os.getpid()
    pids = set(descendants(server_pid)) if server_pid else set()
    pids |= {p for p in _pids() if p not in (me, server_pid) and _mentions(p, marker)}
    result = {}
    for pid in pids:
        st = _stat(pid)
        if st and st[2] != "Z":
            result[pid] = st[1]
    return result


# ------------------------------------------------------------------------------------------
# The server
# ------------------------------------------------------------------------------------------


class NimbusServer:
    def __init__(self, root):
        self.root = str(root)
        self.data_dir = os.path.join(self.root, "data")
        self.stderr_path = os.path.join(self.root, "server.stderr")
        self.stdout_lines = []
        self.proc = None
        self.endpoint = None
        self.stop_report = None

    # -- start -----------------------------------------------------------------------------

    def start(self):
        binary = _nimbus_bin()
        if not os.access(binary, os.X_OK):
            pytest.exit(
                f"nimbus binary not found at {binary}: run `swift build --product nimbus --product "
                f"nimbus-test-runtime` in {helpers.REPO} (or set NIMBUS_BIN)",
                returncode=3,
            )
        os.makedirs(self.data_dir)
        self.stderr_file = open(self.stderr_path, "wb")
        # The API-compatibility suite observes functions from the host (files they write, their pids, a host
        # interpreter for awslambdaric), so its server runs in the process tier by default; the Linux sandbox has its
        # own suite (test_sandbox.py) and the Swift integration tests run on the default tier.
        sandbox = os.environ.get("NIMBUS_E2E_SANDBOX", "process")
        self.proc = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", self.data_dir, "--keep-alive", "60",
             "--sandbox", sandbox,
             # Asynchronous retries and throttle backoffs in tenths of seconds instead of minutes (test_async.py).
             "--async-retry-base", "0.2", "--async-throttle-base", "0.05", "--async-throttle-max", "0.2"],
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.endpoint = follow_banner(self.proc, self.stdout_lines, START_LIMIT, self._abort)
        assert self.endpoint.startswith("http://127.0.0.1:"), self.endpoint

    def stderr_text(self, limit=20000):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def _abort(self, why):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        pytest.exit(f"nimbus serve failed to start: {why}\n--- server stderr ---\n{self.stderr_text()}", returncode=3)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- stop ------------------------------------------------------------------------------

    def stop(self):
        """SIGTERM, then report: exit status, seconds taken, and processes left behind. Idempotent."""
        if self.stop_report is not None:
            return self.stop_report
        report = {"returncode": None, "seconds": None, "leftovers": {}, "already_dead": False}
        if self.proc.poll() is not None:
            report["already_dead"] = True
            report["returncode"] = self.proc.returncode
        before = _session_processes(self.proc.pid, self.data_dir)
        report["tracked"] = len(before)
        if not report["already_dead"]:
            t0 = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_LIMIT)
                report["returncode"] = self.proc.returncode
            except subprocess.TimeoutExpired:
                report["returncode"] = "did not exit within %.0fs" % STOP_LIMIT
                self.proc.kill()
                self.proc.wait(timeout=10)
            report["seconds"] = round(time.monotonic() - t0, 2)

        def leftovers():
            now = _session_processes(None, self.data_dir)
            for pid, start in before.items():
                st = _stat(pid)
                if st and st[1] == start and st[2] != "Z":
                    now[pid] = start
            return now

        # Children are killed asynchronously; allow a short, bounded grace period.
        deadline = time.monotonic() + 5.0
        left = leftovers()
        for _ in range(200):
            if not left or time.monotonic() >= deadline:
                break
            time.sleep(0.025)
            left = leftovers()
        report["leftovers"] = {pid: self._describe(pid) for pid in left}
        for pid in left:  # clean up what the server left behind: only processes of this session
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.stderr_file.close()
        self.stop_report = report
        return report

    @staticmethod
    def _describe(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            return "?"


@pytest.fixture(scope="session")
def nimbus(tmp_path_factory):
    server = NimbusServer(tmp_path_factory.mktemp("nimbus-e2e"))
    server.start()
    yield server
    already_reported = server.stop_report is not None
    problems = shutdown_problems(server.stop())
    if problems and not already_reported:
        raise AssertionError("; ".join(problems) + "\n--- server stderr ---\n" + server.stderr_text(4000))


@pytest.fixture(scope="session")
def endpoint(nimbus):
    return nimbus.endpoint


def _client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        # total_max_attempts 1: botocore must never silently re-send a request (a retried 5xx or a
        # re-sent Invoke would hide server faults). `max_attempts: 1` would allow one retry.
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=120, connect_timeout=10),
    )


@pytest.fixture(scope="session")
def lam(endpoint):
    return _client("lambda", endpoint)


@pytest.fixture(scope="session")
def logs(endpoint):
    return _client("logs", endpoint)


@pytest.fixture
def server_ok(nimbus, lam):
    """Asserts, after the test, that the server still runs and answers ListFunctions."""
    yield
    assert nimbus.alive(), "the server process died:\n" + nimbus.stderr_text(4000)
    lam.list_functions(MaxItems=1)


# ------------------------------------------------------------------------------------------
# Functions
# ------------------------------------------------------------------------------------------


class Functions:
    """Creates functions with unique names and deletes them when the test ends."""

    def __init__(self, lam):
        self.lam = lam
        self.names = []

    def create(self, zip_bytes, name=None, runtime=PY, handler="app.handler", **kwargs):
        name = name or unique()
        params = dict(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler, Code={"ZipFile": zip_bytes})
        params.update(kwargs)
        response = self.lam.create_function(**params)
        self.names.append(name)
        return response

    def python(self, source, handler="app.handler", runtime=PY, **kwargs):
        return self.create(helpers.py_zip(source), runtime=runtime, handler=handler, **kwargs)["FunctionName"]

    def node(self, source, handler="index.handler", **kwargs):
        return self.create(helpers.node_zip(source), runtime=helpers.NODE, handler=handler, **kwargs)["FunctionName"]

    def track(self, name):
        self.names.append(name)

    def cleanup(self):
        for name in self.names:
            try:
                self.lam.delete_function(FunctionName=name)
            except ClientError:
                pass
            except Exception:  # the server may be gone; the session teardown reports that
                pass


@pytest.fixture
def functions(lam):
    registry = Functions(lam)
    yield registry
    registry.cleanup()


@pytest.fixture(scope="session")
def test_runtime_bin():
    path = _test_runtime_bin()
    if not os.access(path, os.X_OK):
        pytest.skip(
            f"compiled test runtime not found at {path}: build it with `swift build --product nimbus-test-runtime` "
            f"in {helpers.REPO} (or set NIMBUS_TEST_RUNTIME)"
        )
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture
def cli_env(tmp_path):
    return helpers.cli_env(str(tmp_path))


@pytest.fixture(scope="session")
def nimbus_bin():
    return _nimbus_bin()


@pytest.fixture
def aws(endpoint, cli_env, tmp_path):
    """Runs the AWS CLI against the session's server: aws("lambda", "get-function", …) → CompletedProcess."""
    cli = helpers.aws_cli()

    def run(*args, check=True):
        cmd = [cli, *args, "--endpoint-url", endpoint, "--output", "json"]
        proc = helpers.run_cmd(cmd, env=cli_env, cwd=str(tmp_path))
        if check:
            assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
        return proc

    return run


@pytest.fixture(scope="session")
def lam_unvalidated(endpoint):
    """A Lambda client without botocore's client-side checks, to send what only the server must refuse."""
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=120, connect_timeout=10,
            parameter_validation=False,
        ),
    )

"""Servers the end-to-end modules start for themselves (beside the session's one in conftest.py): `nimbus serve`
with the options a module needs, on 127.0.0.1:0 with its own data directory, and the host-process bookkeeping
that checks nothing is left behind when it stops."""

import os
import re
import select
import signal
import subprocess
import threading
import time

import boto3
import pytest
from botocore.config import Config

from helpers import REGION, poll

IN_CI = os.environ.get("CI", "").lower() == "true"
FUNCTION_UID = 993
BANNER = "Nimbus is listening on "
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _nimbus_bin():
    return os.environ.get("NIMBUS_BIN") or os.path.join(REPO, ".build", "debug", "nimbus")


def _require(ok, why):
    """Skips a test whose host lacks what it needs; in CI (root, cgroups) a missing requirement is a failure."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{why} — CI runs as root with cgroups and namespaces, so this must not be skipped there")
    pytest.skip(why)


# ------------------------------------------------------------------------------------------
# Host processes
# ------------------------------------------------------------------------------------------


def _stat(pid):
    """(ppid, starttime, state) or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(rest[1]), rest[19], rest[0]


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


def _pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def uid_processes(uid=FUNCTION_UID):
    """{(pid, starttime): cmdline} of live, non-zombie host processes whose real uid is `uid`."""
    found = {}
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/status") as f:
                uid_line = next((line for line in f if line.startswith("Uid:")), None)
        except OSError:
            continue
        if uid_line is None or int(uid_line.split()[1]) != uid:
            continue
        st = _stat(pid)
        if st and st[2] != "Z":
            found[(pid, st[1])] = _cmdline(pid)
    return found


def function_processes(name):
    """{(pid, starttime): cmdline} of live host processes of function `name` (uid 993 and its environment).

    Other Nimbus servers may run on the host at the same time, so uid 993 alone does not identify a function.
    """
    marker = f"AWS_LAMBDA_FUNCTION_NAME={name}\0".encode()
    found = {}
    for key, cmd in uid_processes().items():
        try:
            with open(f"/proc/{key[0]}/environ", "rb") as f:
                if marker in f.read():
                    found[key] = cmd
        except OSError:
            pass
    return found


def descendants(root):
    children = {}
    for pid in _pids():
        st = _stat(pid)
        if st:
            children.setdefault(st[0], []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


# ------------------------------------------------------------------------------------------
# Servers
# ------------------------------------------------------------------------------------------


def follow_banner(proc, lines, limit, abort):
    """Reads `proc`'s stdout into `lines` until the `Nimbus is listening on …` line (bounded by `limit` seconds;
    `abort(why)` otherwise), then keeps collecting lines in a background thread. Returns the endpoint."""
    deadline = time.monotonic() + limit
    buf = b""
    fd = proc.stdout.fileno()
    endpoint = None
    while endpoint is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            abort(f"no '{BANNER}…' line on stdout within {limit:.0f}s")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            proc.wait(timeout=10)
            abort(f"exited with status {proc.returncode} before listening")
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode("utf-8", "replace")
            lines.append(text)
            if text.startswith(BANNER):
                endpoint = text[len(BANNER):].strip()

    def drain(pending):
        if pending:
            lines.append(pending.decode("utf-8", "replace"))
        for line in proc.stdout:
            lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    threading.Thread(target=drain, args=(buf,), daemon=True).start()
    return endpoint



class SandboxServer:
    """`nimbus serve --sandbox linux …` on 127.0.0.1:0 with its own data directory."""

    def __init__(self, root, label, *options):
        self.root = str(root)
        self.label = label
        self.options = list(options)
        self.data_dir = os.path.join(self.root, "data")
        self.stderr_path = os.path.join(self.root, "server.stderr")
        self.stdout_lines = []
        self.proc = None
        self.endpoint = None
        self.port = None
        self.stopped = None

    def start(self, limit=60.0):
        binary = _nimbus_bin()
        if not os.access(binary, os.X_OK):
            pytest.fail(f"nimbus binary not found at {binary}: run `swift build --product nimbus` (or set NIMBUS_BIN)")
        os.makedirs(self.data_dir)
        self.stderr_file = open(self.stderr_path, "wb")
        args = [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", self.data_dir]
        args += ["--keep-alive", "60"] + self.options
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=self.stderr_file, stdin=subprocess.DEVNULL, start_new_session=True
        )
        self.endpoint = follow_banner(self.proc, self.stdout_lines, limit, self._abort)
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", self.endpoint)
        assert m, f"unexpected endpoint {self.endpoint!r}"
        self.port = int(m.group(1))
        # The banner's remaining lines (isolation, runtimes) follow the listening line.
        poll(lambda: any("isolation:" in line for line in self.stdout_lines), timeout=10, what="the isolation line")
        return self

    def stderr_text(self, limit=6000):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-limit:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _abort(self, why):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        pytest.fail(f"nimbus serve {' '.join(self.options)} failed to start: {why}\n--- stderr ---\n{self.stderr_text()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def isolation_line(self):
        return next((line.strip() for line in self.stdout_lines if "isolation:" in line), "")

    def client(self, service="lambda", key="test", secret="test", region=REGION, token=None):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(retries={"total_max_attempts": 1}, read_timeout=120, connect_timeout=10),
        )

    def printed_key(self):
        """The operator key pair the banner prints (`export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…`)."""
        poll(lambda: any("export AWS_ACCESS_KEY_ID=" in line for line in self.stdout_lines), timeout=10, what="the key")
        line = next(line for line in self.stdout_lines if "export AWS_ACCESS_KEY_ID=" in line)
        values = dict(part.split("=", 1) for part in line.split() if "=" in part)
        return values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"]

    def stop(self):
        """SIGTERM; returns a list of problems (exit status, processes left behind). Idempotent."""
        if self.stopped is not None:
            return self.stopped
        problems = []
        if self.proc.poll() is not None:
            problems.append(f"[{self.label}] the server had already exited with status {self.proc.returncode}")
            tracked = {}
        else:
            tracked = {p: _stat(p)[1] for p in descendants(self.proc.pid) if _stat(p)}
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
                if self.proc.returncode != 0:
                    problems.append(f"[{self.label}] exit status after SIGTERM was {self.proc.returncode}, expected 0")
            except subprocess.TimeoutExpired:
                problems.append(f"[{self.label}] did not exit within 20 s of SIGTERM")
                self.proc.kill()
                self.proc.wait(timeout=10)

        def left():
            out = {}
            for pid, start in tracked.items():
                st = _stat(pid)
                if st and st[1] == start and st[2] != "Z":
                    out[pid] = _cmdline(pid)
            return out

        deadline = time.monotonic() + 5
        leftovers = left()
        while leftovers and time.monotonic() < deadline:
            time.sleep(0.05)
            leftovers = left()
        if leftovers:
            problems.append(f"[{self.label}] processes left behind after shutdown: {leftovers}")
            for pid in leftovers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.stderr_file.close()
        self.stopped = problems
        return problems


class RestartableServer:
    """`nimbus serve --sandbox process` on 127.0.0.1:0 with a data directory that outlives it: the crash tests start
    it, `kill9()` it (the server and every function it started) and start it again on the same directory."""

    def __init__(self, data_dir, *options):
        self.data_dir = data_dir
        self.options = list(options)
        self.proc = None
        self.endpoint = None
        self.stderr_path = None

    def start(self, limit=60.0):
        os.makedirs(self.data_dir, exist_ok=True)
        self.stderr_path = os.path.join(os.path.dirname(self.data_dir), f"server-{time.monotonic_ns()}.stderr")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [_nimbus_bin(), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", self.data_dir, "--sandbox",
             "process", "--log-level", "notice"] + self.options,
            stdout=subprocess.PIPE, stderr=self.stderr, stdin=subprocess.DEVNULL, start_new_session=True)
        self.endpoint = follow_banner(self.proc, [], limit, lambda why: pytest.fail(f"server did not start: {why}"))
        return self

    def kill9(self):
        os.killpg(os.getpgid(self.proc.pid), signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()

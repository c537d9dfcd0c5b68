"""Cold start of the runtime clients: process start -> first GET /next on the Runtime API.

    python3 Tests/runtimes/bench_startup.py [runs]

prints a table for every installed Python 3.9-3.13 and node. The listener only accepts and
reads the request line, so the number is the client's own start-up (interpreter start,
runtime import, handler import, connect, send), not an HTTP server's. Python is measured
with the compile cache both cold (first start of a freshly installed client) and warm.
test_startup.py runs a few of these as a smoke test with a generous bound.
"""

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runtime_harness import NODES, PYTHON_VERSIONS, PYTHONS, SOURCE_NODE_CLIENT, SOURCE_PYTHON_CLIENT  # noqa: E402

PY_HANDLER = "def handler(event, context):\n    return {'ok': True}\n"
NODE_HANDLER = "exports.handler = async () => ({ ok: true });\n"


def time_to_first_next(argv, env, cwd, timeout=30.0):
    """Milliseconds from spawning argv until its first /next request has arrived."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(timeout)
    env = dict(env, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % listener.getsockname()[1])
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        conn, _ = listener.accept()
        conn.settimeout(timeout)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = (time.perf_counter() - started) * 1000
        conn.close()
    except socket.timeout:
        proc.kill()
        raise AssertionError("no /next within %.0fs: %s" % (timeout, proc.stderr.read()))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
        listener.close()
    assert data.startswith(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"), data
    return elapsed


class Workspace(object):
    """An installed copy of both clients plus a trivial function for each language."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="nimbus-bench-")
        self.python_client = os.path.join(self.root, "runtime", "python", "nimbus_runtime.py")
        self.node_client = os.path.join(self.root, "runtime", "node", "nimbus_runtime.js")
        for src, dst in ((SOURCE_PYTHON_CLIENT, self.python_client), (SOURCE_NODE_CLIENT, self.node_client)):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)
        self.task = os.path.join(self.root, "task")
        os.makedirs(self.task)
        with open(os.path.join(self.task, "app.py"), "w") as f:
            f.write(PY_HANDLER)
        with open(os.path.join(self.task, "index.js"), "w") as f:
            f.write(NODE_HANDLER)

    def env(self, handler, execution_env):
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": self.task,
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_EXECUTION_ENV": execution_env,
        }

    def clear_python_cache(self):
        shutil.rmtree(os.path.join(os.path.dirname(self.python_client), "__pycache__"), ignore_errors=True)

    def python(self, version, runs, cold_cache=False):
        env = self.env("app.handler", "AWS_Lambda_python" + version)
        argv = [PYTHONS[version], "-I", self.python_client]
        times = []
        for _ in range(runs):
            if cold_cache:
                self.clear_python_cache()
            times.append(time_to_first_next(argv, env, self.task))
        return times

    def node(self, major, runs):
        env = self.env("index.handler", "AWS_Lambda_nodejs%s.x" % major)
        argv = [NODES[major], self.node_client]
        return [time_to_first_next(argv, env, self.task) for _ in range(runs)]

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def summary(times):
    times = sorted(times)
    return "min %6.1f  median %6.1f  p90 %6.1f ms" % (
        times[0],
        statistics.median(times),
        times[min(len(times) - 1, int(len(times) * 0.9))],
    )


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    ws = Workspace()
    try:
        print("cold start, process start -> first GET /next (%d runs each)" % runs)
        for v in PYTHON_VERSIONS:
            if not PYTHONS[v]:
                print("python%-5s  not installed" % v)
                continue
            ws.python(v, 1)  # the handler module's own .pyc, like any second start
            print("python%-5s  cache warm : %s" % (v, summary(ws.python(v, runs))))
            print("python%-5s  cache cold : %s" % (v, summary(ws.python(v, max(3, runs // 4), cold_cache=True))))
        for major in sorted(NODES, key=int):
            ws.node(major, 1)
            print("node%-7s  %s" % (major, summary(ws.node(major, runs))))
    finally:
        ws.close()


if __name__ == "__main__":
    main()

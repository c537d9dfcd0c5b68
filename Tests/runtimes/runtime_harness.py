"""Test harness for the runtime-client tests (imported by conftest.py and the tests; the
unique module name keeps it apart from other suites' conftest/helpers in one pytest run).

``FakeRuntimeAPI`` is a small threaded HTTP/1.1 server that speaks the Lambda Runtime API
(2018-06-01): tests queue events with ``invoke()``; the runtime's ``/next`` long-poll takes
them; every POST the runtime makes is recorded and handed to the test through a queue
(``wait_post``). When a POST arrives the server first drains the runtime's stdout/stderr
pipes, so ``post.stdout`` is exactly what the runtime had written *before* posting.

Nothing here sleeps to synchronise: waits are on queues/events, with timeouts only as
upper bounds.
"""

import atexit
import glob
import http.server
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCE_RUNTIMES_DIR = os.path.join(REPO, "Sources", "NimbusSandbox", "Runtimes")
SOURCE_PYTHON_CLIENT = os.path.join(SOURCE_RUNTIMES_DIR, "python", "nimbus_runtime.py")
SOURCE_NODE_CLIENT = os.path.join(SOURCE_RUNTIMES_DIR, "node", "nimbus_runtime.js")

# Like Nimbus (RuntimeLauncher), run installed copies of the clients: the Python client
# writes its compile cache beside itself, and that must not land in the source tree.
RUNTIMES_DIR = tempfile.mkdtemp(prefix="nimbus-runtimes-")
PYTHON_CLIENT = os.path.join(RUNTIMES_DIR, "python", "nimbus_runtime.py")
NODE_CLIENT = os.path.join(RUNTIMES_DIR, "node", "nimbus_runtime.js")
for _src, _dst in ((SOURCE_PYTHON_CLIENT, PYTHON_CLIENT), (SOURCE_NODE_CLIENT, NODE_CLIENT)):
    os.makedirs(os.path.dirname(_dst))
    shutil.copyfile(_src, _dst)
atexit.register(shutil.rmtree, RUNTIMES_DIR, True)


TIMEOUT = 10.0  # upper bound for any single wait; tests normally finish in milliseconds

PYTHON_VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


# ------------------------------------------------------------------------------------------
# Interpreters
# ------------------------------------------------------------------------------------------


def _is_shim(path):
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return False
    return head.startswith(b"#!") and b"pyenv" in head


def find_python(version):
    """A real (non-shim) python<version> binary, or None."""
    home = os.path.expanduser("~")
    candidates = []
    for root in (os.path.join(home, ".pyenv", "versions"), "/opt/pyenv/versions", "/usr/local/pyenv/versions"):
        for d in sorted(glob.glob(os.path.join(root, version + ".*")), reverse=True):
            candidates.append(os.path.join(d, "bin", "python" + version))
    for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/local/bin", "/usr/bin", "/bin"]:
        if d and "shims" not in d:
            candidates.append(os.path.join(d, "python" + version))
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK) and not _is_shim(c):
            return os.path.realpath(c)
    return None


def _node_major(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except Exception:
        return None
    out = out.strip()
    return out[1:].split(".")[0] if out.startswith("v") else None


def find_nodes():
    """Every distinct node binary we can find, as {major: path}."""
    home = os.path.expanduser("~")
    candidates = [os.environ.get("NIMBUS_TEST_NODE", "")]
    for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/local/bin", "/usr/bin"]:
        if d:
            candidates.append(os.path.join(d, "node"))
    for root in (os.path.join(home, ".nvm", "versions", "node"), "/usr/local/nvm/versions/node"):
        candidates += sorted(glob.glob(os.path.join(root, "v*", "bin", "node")))
    found = {}
    seen = set()
    for c in candidates:
        if not c or not os.path.isfile(c) or not os.access(c, os.X_OK):
            continue
        real = os.path.realpath(c)
        if real in seen:
            continue
        seen.add(real)
        major = _node_major(real)
        if major and major not in found:
            found[major] = real
    return found


PYTHONS = {v: find_python(v) for v in PYTHON_VERSIONS}
NODES = find_nodes()


def python_params():
    params = []
    for v in PYTHON_VERSIONS:
        marks = [] if PYTHONS[v] else [pytest.mark.skip(reason="python%s is not installed" % v)]
        params.append(pytest.param(v, id="py" + v, marks=marks))
    return params


def node_params():
    if not NODES:
        return [pytest.param(None, id="node", marks=pytest.mark.skip(reason="node is not installed"))]
    return [pytest.param(major, id="node" + major) for major in sorted(NODES, key=int)]


# ------------------------------------------------------------------------------------------
# Fake Runtime API
# ------------------------------------------------------------------------------------------


class Post(object):
    def __init__(self, kind, request_id, path, headers, body, stdout, stderr):
        self.kind = kind  # "response" | "error" | "init_error"
        self.request_id = request_id
        self.path = path
        self.headers = headers  # lower-cased names
        self.body = body
        self.stdout = stdout  # runtime's stdout as of the moment the POST arrived
        self.stderr = stderr

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Post(%s, %s, %r)" % (self.kind, self.request_id, self.body[:300])


_STOP = object()


class FakeRuntimeAPI(object):
    def __init__(self):
        self.events = queue.Queue()
        self.posts = queue.Queue()
        self.next_times = []
        self._next_cond = threading.Condition()
        self.connections = 0
        self.requests = []
        self.post_status = {}  # kind -> status code to answer with (default 202)
        self.close_after_post = False  # True: drop the connection after each POST answer, unannounced;
        # "header": announce it with "Connection: close"
        self.chunked_next = False  # answer /next with Transfer-Encoding: chunked
        self.trickle_next = False  # write the /next answer one byte per TCP segment
        self.on_post = None  # callable run before a POST is recorded (drains the pipes)
        self.output = None  # (stdout, stderr) provider
        self._lock = threading.Lock()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, *args):
                pass

            def setup(self):
                http.server.BaseHTTPRequestHandler.setup(self)
                with api._lock:
                    api.connections += 1

            def do_GET(self):
                with api._lock:
                    api.requests.append(("GET", self.path))
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self.send_error(404)
                    return
                with api._next_cond:
                    api.next_times.append(time.perf_counter())
                    api._next_cond.notify_all()
                item = api.events.get()
                if item is _STOP:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                status, headers, body = item
                if api.trickle_next:
                    raw = ("HTTP/1.1 %d OK\r\n" % status).encode()
                    for k, v in headers.items():
                        raw += ("%s: %s\r\n" % (k, v)).encode("latin-1")
                    if api.chunked_next:
                        raw += b"Transfer-Encoding: chunked\r\n\r\n"
                        for i in range(0, len(body), 7):
                            part = body[i : i + 7]
                            raw += b"%x;ext=1\r\n%s\r\n" % (len(part), part)
                        raw += b"0\r\nX-Trailer: t\r\n\r\n"
                    else:
                        raw += b"Content-Length: %d\r\n\r\n" % len(body) + body
                    for i in range(len(raw)):
                        self.wfile.write(raw[i : i + 1])
                    return
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if api.chunked_next:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    half = len(body) // 2
                    for part in (body[:half], body[half:]):
                        if part:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def _read_body(self):
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    out = b""
                    trailers = {}
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while True:
                                line = self.rfile.readline()
                                if line in (b"\r\n", b"\n", b""):
                                    break
                                k, _, v = line.decode("latin-1").partition(":")
                                trailers[k.strip().lower()] = v.strip()
                            break
                        out += self.rfile.read(size)
                        self.rfile.readline()
                    return out, trailers
                n = int(self.headers.get("Content-Length", "0"))
                return self.rfile.read(n), {}

            def do_POST(self):
                with api._lock:
                    api.requests.append(("POST", self.path))
                body, trailers = self._read_body()
                parts = self.path.split("/")
                if self.path == "/2018-06-01/runtime/init/error":
                    kind, rid = "init_error", None
                elif len(parts) == 6 and parts[3] == "invocation" and parts[5] in ("response", "error"):
                    kind, rid = parts[5], parts[4]
                else:
                    self.send_error(404)
                    return
                if api.on_post is not None:
                    api.on_post()
                out, err = api.output() if api.output else ("", "")
                headers = {k.lower(): v for k, v in self.headers.items()}
                headers.update(trailers)
                status = api.post_status.get(kind, 202)
                reply = b'{"status":"OK"}' if status == 202 else b'{"errorMessage":"nope","errorType":"InvalidStateTransition"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                if api.close_after_post == "header":
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply)
                self.wfile.flush()
                if api.close_after_post:
                    # Close without "Connection: close": the client only finds out when it
                    # tries to reuse the connection.
                    self.close_connection = True
                api.posts.put(Post(kind, rid, self.path, headers, body, out, err))

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a runtime killed mid-request is expected, not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.address = "127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()

    def invoke(
        self,
        event=None,
        request_id=None,
        raw=None,
        content_type="application/json",
        trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        client_context=None,
        cognito_identity=None,
        deadline_ms=None,
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        extra_headers=None,
        status=200,
    ):
        rid = request_id or str(uuid.uuid4())
        body = raw if raw is not None else json.dumps({} if event is None else event).encode("utf-8")
        headers = {
            "Lambda-Runtime-Aws-Request-Id": rid,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms or int(time.time() * 1000) + 30000),
            "Lambda-Runtime-Invoked-Function-Arn": arn,
        }
        if content_type is not None:
            headers["Content-Type"] = content_type
        if trace_id is not None:
            headers["Lambda-Runtime-Trace-Id"] = trace_id
        if client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = (
                client_context if isinstance(client_context, str) else json.dumps(client_context)
            )
        if cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = (
                cognito_identity if isinstance(cognito_identity, str) else json.dumps(cognito_identity)
            )
        if status != 200:
            headers = {}
        headers.update(extra_headers or {})
        self.events.put((status, headers, body))
        return rid

    def wait_next(self, count, timeout=TIMEOUT):
        """Wait until the runtime has made `count` /next requests (i.e. is parked in one)."""
        with self._next_cond:
            ok = self._next_cond.wait_for(lambda: len(self.next_times) >= count, timeout)
        assert ok, "the runtime made %d /next requests, expected %d" % (len(self.next_times), count)

    def wait_post(self, timeout=TIMEOUT):
        try:
            return self.posts.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the runtime posted nothing within %.0fs" % timeout)

    def close(self):
        for _ in range(4):
            self.events.put(_STOP)
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------------------------
# Runtime process with pipes that are drained on demand
# ------------------------------------------------------------------------------------------


class RuntimeProcess(object):
    def __init__(self, argv, env, cwd):
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._bufs = {self.proc.stdout.fileno(): bytearray(), self.proc.stderr.fileno(): bytearray()}
        self._out_fd = self.proc.stdout.fileno()
        self._err_fd = self.proc.stderr.fileno()
        self._open = set(self._bufs)
        for fd in self._bufs:
            os.set_blocking(fd, False)
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._pump)
        self._thread.daemon = True
        self._thread.start()

    def _read_available(self, fd):
        # caller holds self._cond
        while fd in self._open:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._open.discard(fd)
                return
            self._bufs[fd] += data

    def _pump(self):
        while True:
            with self._cond:
                fds = list(self._open)
            if not fds:
                with self._cond:
                    self._cond.notify_all()
                return
            ready, _, _ = select.select(fds, [], [], 0.5)
            with self._cond:
                for fd in ready:
                    self._read_available(fd)
                self._cond.notify_all()

    def drain(self):
        with self._cond:
            for fd in list(self._open):
                self._read_available(fd)
            self._cond.notify_all()

    @property
    def stdout(self):
        with self._cond:
            return self._bufs[self._out_fd].decode("utf-8", "replace")

    @property
    def stderr(self):
        with self._cond:
            return self._bufs[self._err_fd].decode("utf-8", "replace")

    def output(self):
        with self._cond:
            return (
                self._bufs[self._out_fd].decode("utf-8", "replace"),
                self._bufs[self._err_fd].decode("utf-8", "replace"),
            )

    def wait_exit(self, timeout=TIMEOUT):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("runtime did not exit; stdout:\n%s\nstderr:\n%s" % self.output())
        self._thread.join(timeout)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        self._thread.join(TIMEOUT)
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


# ------------------------------------------------------------------------------------------
# A function environment: write the code, start the fake API and the runtime
# ------------------------------------------------------------------------------------------


def write_tree(root, files):
    for rel, content in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(p, mode) as f:
            f.write(content)


class Env(object):
    """One function environment: code dir + fake Runtime API + runtime process."""

    def __init__(self, tmp_path, language, version):
        self.tmp_path = tmp_path
        self.language = language
        self.version = version
        self.task_root = str(tmp_path / "task")
        os.makedirs(self.task_root, exist_ok=True)
        self.api = None
        self.proc = None

    def start(self, files, handler, env=None, argv_handler=False, configure=None):
        write_tree(self.task_root, files)
        self.api = FakeRuntimeAPI()
        if configure is not None:
            configure(self.api)
        if self.language == "python":
            exe = PYTHONS[self.version]
            argv = [exe, "-I", PYTHON_CLIENT]
            execution_env = "AWS_Lambda_python" + self.version
        else:
            exe = NODES[self.version]
            argv = [exe, NODE_CLIENT]
            execution_env = "AWS_Lambda_nodejs%s.x" % self.version
        if argv_handler:
            argv.append(handler)
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": self.task_root,
            "LAMBDA_RUNTIME_DIR": os.path.dirname(argv[-1] if not argv_handler else argv[-2]),
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EXECUTION_ENV": execution_env,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        }
        for k, v in (env or {}).items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
        self.proc = RuntimeProcess(argv, full_env, self.task_root)
        self.api.on_post = self.proc.drain
        self.api.output = self.proc.output
        return self.api, self.proc

    def invoke(self, event=None, **kw):
        """Queue one event and return the runtime's POST for it."""
        rid = self.api.invoke(event, **kw)
        post = self.api.wait_post()
        assert post.request_id == rid, (post, self.proc.output())
        return post

    def close(self):
        if self.proc is not None:
            self.proc.kill()
        if self.api is not None:
            self.api.close()


def send_sigterm(proc):
    proc.proc.send_signal(signal.SIGTERM)

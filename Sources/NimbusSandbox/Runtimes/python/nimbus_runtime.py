"""Nimbus Python runtime client (AWS Lambda Runtime API 2018-06-01).

Started by Nimbus as ``python3.X -I <dir>/nimbus_runtime.py`` with the code directory as
cwd. It behaves like AWS's managed Python runtime (awslambdaric): same handler
resolution, context object, error bodies, log formats and fault types.

Standard library only; Python 3.9+. Cold start is benchmarked, so:

* At startup only C modules that are (nearly) free are loaded: ``_socket`` for a small
  keep-alive HTTP/1.1 client, ``_json`` for JSON, ``_signal``. ``logging`` is configured
  when (and if) the function imports it; ``traceback`` only when an error is formatted.
* The runtime's code is the string ``_SOURCE`` below, compiled once per interpreter and
  cached as a marshalled code object in ``__pycache__/`` beside this file. Python never
  caches the bytecode of a ``__main__`` script, and compiling this much code costs
  5-8 ms per cold start, about a third of the whole start. If the directory is not
  writable it is simply compiled every time; ``python3.X -I nimbus_runtime.py --compile``
  fills the cache ahead of time. Line numbers of ``_SOURCE`` match this file, so
  tracebacks read normally. ``_SOURCE`` must not contain three single quotes in a row.
"""

import os
import sys

_SOURCE_LINE = sys._getframe().f_lineno + 1  # the line of "_SOURCE = r..." below
_SOURCE = r'''
import os
import sys
import time

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None

_API_VERSION = "/2018-06-01"
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_ERROR_LOG_IDENT = "\u00a0"
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_LAMBDA_WARNING_UNHANDLED = (
    "LAMBDA_WARNING: "
    "Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, or can be applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this error by temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


# --------------------------------------------------------------------------------------
# Faults (same type names and messages as awslambdaric)
# --------------------------------------------------------------------------------------


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# --------------------------------------------------------------------------------------
# JSON (the C accelerator directly, so that importing json/re is not on the startup path)
# --------------------------------------------------------------------------------------

_WS = " \t\n\r"


class _DecodeContext(object):
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {
        "-Infinity": float("-inf"),
        "Infinity": float("inf"),
        "NaN": float("nan"),
    }.__getitem__
    memo = None


_scan_once = None
if _json is not None:
    try:
        _scan_once = _json.make_scanner(_DecodeContext())
    except Exception:  # pragma: no cover
        _scan_once = None


def json_loads(data):
    """json.loads, without importing json unless the document is invalid."""
    if _scan_once is not None:
        try:
            s = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
            n = len(s)
            i = 0
            while i < n and s[i] in _WS:
                i += 1
            obj, end = _scan_once(s, i)
            while end < n and s[end] in _WS:
                end += 1
            if end == n:
                return obj
        except Exception:
            pass
    import json  # slow path: produces json's exact error messages

    return json.loads(data)


_DECIMAL_TOKEN = "\x00nimbus-decimal-%x-" % id(_DecodeContext)


class _Encoder(object):
    """The parts of awslambdaric's simplejson Encoder that show: allow_nan, Decimal as a
    JSON number with its exact digits, bytes as UTF-8 strings, ensure_ascii off on 3.12+."""

    def __init__(self, ensure_ascii):
        self.ensure_ascii = ensure_ascii
        self._decimals = None
        self._basestring = None
        if _json is not None:
            self._basestring = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring

    def _default(self, o):
        dec = sys.modules.get("decimal")
        if dec is not None and isinstance(o, dec.Decimal):
            if o.is_nan():
                return float("nan")
            # A placeholder string now, replaced by the number's digits afterwards.
            if self._decimals is None:
                self._decimals = []
            self._decimals.append(str(o))
            return _DECIMAL_TOKEN + str(len(self._decimals) - 1) + "\x00"
        if isinstance(o, (bytes, bytearray)):
            return bytes(o).decode("utf-8")
        raise TypeError("Object of type %s is not JSON serializable" % (o.__class__.__name__,))

    def encode(self, o):
        self._decimals = None
        if self._basestring is None:  # pragma: no cover - CPython always has _json
            import json

            out = json.dumps(o, ensure_ascii=self.ensure_ascii, default=self._default)
        elif isinstance(o, str):
            out = self._basestring(o)
        else:
            # A new C encoder per call, as json.JSONEncoder does: its circular-reference
            # markers are not reset after an error.
            encoder = _json.make_encoder(
                {}, self._default, self._basestring, None, ": ", ", ", False, False, True
            )
            out = "".join(encoder(o, 0))
        decimals = self._decimals
        if decimals:
            self._decimals = None
            esc = "\\u0000"
            token = _DECIMAL_TOKEN.replace("\x00", esc)
            for i, text in enumerate(decimals):
                out = out.replace('"' + token + str(i) + esc + '"', text, 1)
        return out


def _ensure_ascii():
    env = os.environ.get("AWS_EXECUTION_ENV")
    if env and env.startswith("AWS_Lambda_python3."):
        return env not in (
            "AWS_Lambda_python3.12",
            "AWS_Lambda_python3.13",
            "AWS_Lambda_python3.14",
            "AWS_Lambda_python3.15",
        )
    return sys.version_info < (3, 12)


_encoder = _Encoder(_ensure_ascii())


def to_json(obj):
    return _encoder.encode(obj)


# --------------------------------------------------------------------------------------
# Runtime API client: one keep-alive HTTP/1.1 connection over a raw socket
# --------------------------------------------------------------------------------------


class _ConnectionLost(Exception):
    pass


_PATH_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)


def _quote(s):
    if all(c in _PATH_SAFE for c in s):
        return s
    return "".join(
        c if c in _PATH_SAFE else "".join("%%%02X" % b for b in c.encode("utf-8"))
        for c in s
    )


def _header_value(v):
    return str(v).replace("\r", " ").replace("\n", " ")


class RuntimeAPIClient(object):
    def __init__(self, address):
        import _socket

        self._socket = _socket
        address = address.strip()
        if "://" in address:
            address = address.split("://", 1)[1]
        address = address.rstrip("/")
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit() or "]" in port:
            host, port = address, "80"
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self.host_header = address
        self.user_agent = "aws-lambda-python/%d.%d.%d-nimbus" % tuple(sys.version_info[:3])
        self.sock = None
        self.buf = bytearray()
        self._got = False

    # -- connection ------------------------------------------------------------------

    def _connect(self):
        _socket = self._socket
        err = None
        host = self.host
        try:
            # bytes: a str host would make getaddrinfo load the idna codec (and re) first
            host = host.encode("ascii")
        except UnicodeEncodeError:
            pass
        for family, type_, proto, _, sa in _socket.getaddrinfo(host, self.port, 0, _socket.SOCK_STREAM):
            s = _socket.socket(family, type_, proto)
            try:
                s.connect(sa)
            except OSError as e:
                s.close()
                err = e
                continue
            try:
                s.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError:
                pass
            self.sock = s
            self.buf = bytearray()
            return
        raise err if err is not None else OSError("cannot resolve " + self.host)

    def close(self):
        s = self.sock
        self.sock = None
        self.buf = bytearray()
        if s is not None:
            try:
                s.close()
            except OSError:
                pass

    # -- reading ---------------------------------------------------------------------

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionError, OSError):
            if not self._got:
                raise _ConnectionLost()
            raise
        if not chunk:
            if not self._got:
                raise _ConnectionLost()
            raise ConnectionError("Runtime API closed the connection mid-response")
        self._got = True
        self.buf += chunk

    def _read_until(self, sep):
        start = 0
        while True:
            i = self.buf.find(sep, start)
            if i >= 0:
                data = bytes(self.buf[:i])
                del self.buf[: i + len(sep)]
                return data
            start = max(0, len(self.buf) - len(sep) + 1)
            self._fill()

    def _read_exact(self, n):
        buf = self.buf
        if len(buf) >= n:
            data = bytes(buf[:n])
            del buf[:n]
            return data
        out = bytearray(n)
        have = len(buf)
        out[:have] = buf
        self.buf = bytearray()
        view = memoryview(out)
        sock = self.sock
        while have < n:
            got = sock.recv_into(view[have:], n - have)
            if not got:
                raise ConnectionError("Runtime API closed the connection mid-body")
            have += got
        view.release()
        return bytes(out)

    def _read_response(self, method):
        self._got = bool(self.buf)
        head = self._read_until(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(None, 2)
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode("latin-1")] = v.strip().decode(
                "utf-8", "replace"
            )
        close = headers.get("connection", "").lower() == "close"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size_line = self._read_until(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self._read_until(b"\r\n"):  # trailers
                        pass
                    break
                chunks.append(self._read_exact(size))
                self._read_until(b"\r\n")
            body = b"".join(chunks)
        elif "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        else:
            chunks = [bytes(self.buf)]
            self.buf = bytearray()
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            body = b"".join(chunks)
            close = True
        if close:
            self.close()
        return status, headers, body

    # -- requests --------------------------------------------------------------------

    def request(self, method, path, body=None, headers=()):
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n" % (
            method,
            path,
            self.host_header,
            self.user_agent,
        )
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        for k, v in headers:
            head += "%s: %s\r\n" % (k, _header_value(v))
        data = (head + "\r\n").encode("utf-8")
        if body:
            data += body
        for attempt in (0, 1):
            reused = self.sock is not None
            if not reused:
                self._connect()
            self._got = False
            try:
                self.sock.sendall(data)
                return self._read_response(method)
            except (_ConnectionLost, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                # Reconnect once, and only if a kept-alive connection had been closed
                # under us before any byte of the answer arrived.
                if not reused or attempt or (self._got and not isinstance(e, _ConnectionLost)):
                    raise ConnectionError("Runtime API connection lost") from None
            except BaseException:
                self.close()
                raise
        raise ConnectionError("Runtime API connection lost")  # pragma: no cover

    def next_invocation(self):
        status, headers, body = self.request("GET", _API_VERSION + "/runtime/invocation/next")
        if not 200 <= status < 300:
            raise RuntimeError(
                "Failed to get next invocation: HTTP %d %s" % (status, body[:200].decode("utf-8", "replace"))
            )
        return headers, body

    def _post(self, path, body, headers):
        status, _, resp = self.request("POST", path, body, headers)
        if not 200 <= status < 300:
            _stderr(
                "nimbus runtime: POST %s returned HTTP %d: %s\n"
                % (path, status, resp[:500].decode("utf-8", "replace"))
            )
        return status

    def post_invocation_result(self, invoke_id, result, content_type):
        return self._post(
            _API_VERSION + "/runtime/invocation/" + _quote(invoke_id) + "/response",
            result,
            (("Content-Type", content_type),),
        )

    def post_invocation_error(self, invoke_id, error_json, error_type):
        return self._post(
            _API_VERSION + "/runtime/invocation/" + _quote(invoke_id) + "/error",
            error_json.encode("utf-8"),
            (("Content-Type", "application/json"), (_ERROR_TYPE_HEADER, error_type)),
        )

    def post_init_error(self, error_result):
        status, _, resp = self.request(
            "POST",
            _API_VERSION + "/runtime/init/error",
            to_json(error_result).encode("utf-8"),
            (
                ("Content-Type", "application/json"),
                (_ERROR_TYPE_HEADER, error_result["errorType"]),
            ),
        )
        if status != 202:
            raise RuntimeError(
                "Request to Lambda Runtime '/2018-06-01/runtime/init/error' endpoint failed. "
                "Reason: '%d'. Response body: '%r'" % (status, resp)
            )


# --------------------------------------------------------------------------------------
# Output and logging
# --------------------------------------------------------------------------------------


class _State(object):
    request_id = None
    tenant_id = None
    log_json = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
    log_level = {None: "", "TRACE": "DEBUG"}.get(
        os.environ.get("AWS_LAMBDA_LOG_LEVEL"), os.environ.get("AWS_LAMBDA_LOG_LEVEL") or ""
    ).upper()
    logging_configured = False


def _stderr(msg):
    try:
        sys.stderr.write(msg)
        sys.stderr.flush()
    except Exception:
        pass


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _write_log(text):
    try:
        sys.stdout.write(text)
    except Exception:
        pass


def _gm_timestamp(fmt=_DATETIME_FORMAT):
    return time.strftime(fmt, time.gmtime(time.time()))


_RESERVED_FIELDS = frozenset(
    (
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
        "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
        "relativeCreated", "thread", "threadName", "processName", "process",
        "aws_request_id", "tenant_id", "_frame_type", "taskName",
    )
)


def _configure_logging(logging):
    """What awslambdaric's _setup_logging does to the root logger."""
    if _State.logging_configured:
        return
    _State.logging_configured = True
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _State.request_id or ""
            record.tenant_id = _State.tenant_id
            return True

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            try:
                msg = self.format(record)
                sys.stdout.write(msg)
            except RecursionError:  # pragma: no cover
                raise
            except Exception:
                self.handleError(record)

    handler = LambdaLoggerHandler()
    if _State.log_json:
        import traceback

        def _level(record):
            return min(50, max(0, record.levelno)) // 10 * 10

        class JsonFormatter(logging.Formatter):
            def __init__(self):
                logging.Formatter.__init__(self, datefmt=_DATETIME_FORMAT)

            def format(self, record):
                record.levelno = _level(record)
                record.levelname = logging.getLevelName(record.levelno)
                exc = record.exc_info
                result = {
                    "timestamp": self.formatTime(record, self.datefmt),
                    "level": record.levelname,
                    "message": record.getMessage(),
                    "logger": record.name,
                    "stackTrace": traceback.format_tb(exc[2]) if exc else None,
                    "errorType": exc[0].__name__ if exc else None,
                    "errorMessage": str(exc[1]) if exc else None,
                    "requestId": getattr(record, "aws_request_id", None),
                    "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
                    if exc
                    else None,
                }
                if getattr(record, "tenant_id", None) is not None:
                    result["tenantId"] = record.tenant_id
                for key, value in record.__dict__.items():
                    if key not in _RESERVED_FIELDS and key not in result:
                        result[key] = value
                result = {k: v for k, v in result.items() if v is not None}
                return _json_log_encode(result) + "\n"

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    if _State.log_level in getattr(logging, "_nameToLevel", {}):
        root.setLevel(_State.log_level)
    handler.addFilter(LambdaLoggerFilter())
    root.addHandler(handler)


_json_log_encoder = None


def _json_log_encode(obj):
    """awslambdaric encodes JSON log records with json.JSONEncoder(ensure_ascii=False)."""
    global _json_log_encoder
    if _json_log_encoder is None:
        import json

        _json_log_encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    return _json_log_encoder.encode(obj)


class _LoggingImportHook(object):
    """Configures the root logger the moment user code first imports ``logging``.

    Nothing can log through ``logging`` before it is imported, so this is equivalent to
    configuring it eagerly, minus the import cost for functions that never log."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging" or _State.logging_configured:
            return None
        spec = None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(name, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module
        hook = self

        def exec_module(module):
            original(module)
            try:
                del loader.exec_module
            except AttributeError:
                pass
            try:
                sys.meta_path.remove(hook)
            except ValueError:
                pass
            try:
                _configure_logging(module)
            except Exception as e:  # never break the user's import
                _stderr("nimbus runtime: could not configure logging: %r\n" % (e,))

        try:
            loader.exec_module = exec_module
        except Exception:
            pass
        return spec

    def invalidate_caches(self):
        pass


def _install_logging():
    logging = sys.modules.get("logging")
    if logging is not None:
        _configure_logging(logging)
    else:
        sys.meta_path.insert(0, _LoggingImportHook())


def _log_warning(msg):
    """logging.warning(msg) on the root logger as configured by the runtime."""
    logging = sys.modules.get("logging")
    if logging is not None and _State.logging_configured:
        logging.warning(msg)
        return
    if _State.log_level in ("ERROR", "CRITICAL", "FATAL"):
        return
    now = time.time()
    if _State.log_json:
        _write_log(
            _json_log_encode(
                {
                    "timestamp": time.strftime(_DATETIME_FORMAT, time.gmtime(now)),
                    "level": "WARNING",
                    "message": msg,
                    "logger": "root",
                    "requestId": _State.request_id or "",
                }
            )
            + "\n"
        )
    else:
        _write_log(
            "[WARNING]\t%s.%03dZ\t%s\t%s\n"
            % (
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)),
                int((now - int(now)) * 1000),
                _State.request_id or "",
                msg,
            )
        )


def _replace_line_indentation(line, indent_char, new_indent_char):
    n = 0
    for c in line:
        if c != indent_char:
            break
        n += 1
    return (new_indent_char * n) + line[n:]


def log_error(error_result):
    """awslambdaric's log_error with the standard (stdout) log sink."""
    if _State.log_json:
        record = {"timestamp": _gm_timestamp(), "log_level": "ERROR"}
        record.update(error_result)
        _write_log(to_json(record) + "\n")
        return
    description = "[ERROR]"
    error_type = error_result.get("errorType")
    if error_type:
        description += " " + error_type
    error_message = error_result.get("errorMessage")
    if error_message:
        if error_type:
            description += ":"
        description += " " + error_message
    lines = [description]
    stack_trace = error_result.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                for trace_line in element.splitlines():
                    lines.append(_replace_line_indentation(trace_line, " ", _ERROR_LOG_IDENT))
    _write_log("\r".join(lines) + "\n")


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i in range(len(frames)):
        if frames[i][0] != _THIS_FILE:
            return traceback, frames[i:]
    return traceback, frames


def build_fault_result(exc_info, invoke_id=None):
    etype, value, tb = exc_info
    traceback, frames = _user_frames(tb)
    try:
        message = str(value)
    except Exception:
        message = "<exception str() failed>"
    return make_error(message, etype.__name__, traceback.format_list(frames), invoke_id)


# --------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------


class LambdaContext(object):
    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
    ):
        environ = os.environ
        self.aws_request_id = invoke_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, exactly as on AWS ("128"), not an int.
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id

        self.client_context = _make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _make_obj_from_dict(Client, self.client_context.client)

        self.identity = _make_obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg):
        _write_log(str(msg))

    def __repr__(self):
        return (
            "%s([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,"
            "client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.__class__.__name__,
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "%s([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.__class__.__name__,
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        return (
            "%s([installation_id=%s,app_title=%s,app_version_name=%s,app_version_code=%s,"
            "app_package_name=%s])"
            % (
                self.__class__.__name__,
                self.installation_id,
                self.app_title,
                self.app_version_name,
                self.app_version_code,
                self.app_package_name,
            )
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "%s([custom=%s,env=%s,client=%s])" % (
            self.__class__.__name__,
            self.custom,
            self.env,
            self.client,
        )


def _make_obj_from_dict(_class, _dict):
    if _dict is None:
        return None
    obj = _class()
    for field in _class.__slots__:
        setattr(obj, field, _dict.get(field, None))
    return obj


def _parse_json_header(header, name):
    try:
        return json_loads(header)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, str(e)),
            None,
        )


# --------------------------------------------------------------------------------------
# Handler loading and invocation
# --------------------------------------------------------------------------------------


def _import_module(name):
    importlib = sys.modules.get("importlib")
    if importlib is not None:
        return importlib.import_module(name)
    # importlib.import_module without paying for importing the importlib package.
    return sys.modules["_frozen_importlib"]._gcd_import(name, None, 0)


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME,
            "Bad handler '{}': {}".format(handler, str(e)),
        )

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        m = _import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(modname, str(e)),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )

    try:
        request_handler = getattr(m, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(fname, modname),
            None,
        )
    return request_handler


def _marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException(
            FaultException.MARSHAL_ERROR,
            "Unable to marshal response: {}".format(str(e)),
            None,
        )


def _unmarshal_request(body, content_type):
    # awslambdaric decodes only an exact "application/json"; any other declared type is
    # passed through as bytes. A missing Content-Type is treated as JSON here.
    if content_type is not None and content_type != "application/json":
        return body
    try:
        return json_loads(body)
    except Exception as e:
        raise FaultException(
            FaultException.UNMARSHAL_ERROR,
            "Unable to unmarshal input: {}".format(str(e)),
            None,
        )


def handle_event_request(client, request_handler, invoke_id, headers, body):
    error_result = None
    try:
        client_context_json = headers.get("lambda-runtime-client-context")
        cognito_identity_json = headers.get("lambda-runtime-cognito-identity")
        client_context = (
            _parse_json_header(client_context_json, "Client Context") if client_context_json else None
        )
        cognito_identity = (
            _parse_json_header(cognito_identity_json, "Cognito Identity")
            if cognito_identity_json
            else None
        )
        try:
            deadline = int(headers.get("lambda-runtime-deadline-ms") or 0)
        except ValueError:
            deadline = 0
        context = LambdaContext(
            invoke_id,
            client_context,
            cognito_identity,
            deadline,
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        event = _unmarshal_request(body, headers.get("content-type"))
        response = request_handler(event, context)
        result, content_type = _marshal_response(response)
    except FaultException as e:
        error_result = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        error_result = build_fault_result(sys.exc_info(), invoke_id)

    if error_result is not None:
        log_error(error_result)
        try:
            error_json = to_json(error_result)
        except Exception:  # e.g. a message that is not valid text
            error_json = to_json(
                make_error(repr(error_result.get("errorMessage")), error_result.get("errorType"), [], invoke_id)
            )
        _flush()
        client.post_invocation_error(invoke_id, error_json, error_result["errorType"])
    else:
        _flush()
        client.post_invocation_result(invoke_id, result, content_type)


# --------------------------------------------------------------------------------------
# Startup
# --------------------------------------------------------------------------------------


def _setup_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except Exception:
            pass


def _setup_sys_path(task_root):
    entries = [task_root]
    opt_site = "/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2]
    for d in (opt_site, "/opt/python"):
        if os.path.isdir(d):
            entries.append(d)
    for p in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if p and p not in entries:
            entries.append(p)
    sys.path[0:0] = [e for e in entries if e]


def _on_sigterm(signum, frame):
    _flush()
    os._exit(0)


def _install_signal_handlers():
    try:
        import _signal

        if _signal.getsignal(_signal.SIGTERM) == _signal.SIG_DFL:
            _signal.signal(_signal.SIGTERM, _on_sigterm)
    except Exception:
        pass


def main():
    _setup_streams()
    api_address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not api_address:
        _stderr("nimbus runtime: AWS_LAMBDA_RUNTIME_API is not set\n")
        sys.exit(1)
    handler_name = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else os.environ.get("_HANDLER", "")
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    _setup_sys_path(task_root)
    _install_signal_handlers()
    _install_logging()

    client = RuntimeAPIClient(api_address)

    error_result = None
    try:
        request_handler = get_handler(handler_name)
    except FaultException as e:
        error_result = make_error(e.msg, e.exception_type, e.trace)
    except Exception:
        error_result = build_fault_result(sys.exc_info())

    if error_result is not None:
        _log_warning(_LAMBDA_WARNING_UNHANDLED)
        log_error(error_result)
        _flush()
        client.post_init_error(error_result)
        sys.exit(1)

    environ = os.environ
    while True:
        headers, body = client.next_invocation()
        invoke_id = headers.get("lambda-runtime-aws-request-id")
        if not invoke_id:
            raise RuntimeError("Failed to get next invocation: missing Lambda-Runtime-Aws-Request-Id")
        _State.request_id = invoke_id
        _State.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id is not None:
            environ["_X_AMZN_TRACE_ID"] = trace_id
        elif "_X_AMZN_TRACE_ID" in environ:
            del environ["_X_AMZN_TRACE_ID"]
        handle_event_request(client, request_handler, invoke_id, headers, body)


_THIS_FILE = main.__code__.co_filename

if __name__ == "__main__":
    main()
'''


def _nimbus_code():
    """The compiled ``_SOURCE``, from the cache when it holds exactly this source."""
    import marshal

    path = __file__
    magic = getattr(sys.modules.get("_frozen_importlib_external"), "MAGIC_NUMBER", sys.version)
    key = (magic, path, _SOURCE_LINE)
    cache = os.path.join(
        os.path.dirname(os.path.abspath(path)),
        "__pycache__",
        "nimbus_runtime.%s.bin" % sys.implementation.cache_tag,
    )
    try:
        with open(cache, "rb") as f:
            cached = marshal.loads(f.read())
        if cached[0] == key and cached[1] == _SOURCE:
            return cached[2]
    except Exception:
        pass
    code = compile("\n" * (_SOURCE_LINE - 1) + _SOURCE, path, "exec")
    if not sys.dont_write_bytecode:
        tmp = "%s.%d.tmp" % (cache, os.getpid())
        try:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(marshal.dumps((key, _SOURCE, code)))
            os.replace(tmp, cache)  # atomic: concurrent cold starts never see half a file
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return code


if __name__ == "__main__" and sys.argv[1:2] == ["--compile"]:
    _nimbus_code()
    sys.exit(0)

exec(_nimbus_code())

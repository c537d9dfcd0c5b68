"""Helpers of the S3 end-to-end modules (test_s3*.py, test_thumbnail_example.py): clients, buckets that clean up after
themselves, S3's digests computed here independently (ETag, multipart ETag, CRC32, CRC32C, SHA-256), signed raw HTTP
for what boto3 would not send (virtual-host requests, malformed XML, truncated bodies), and a scan of the server's data
directory for bytes that must not be left on disk.

Every request goes to 127.0.0.1 and every wait is bounded in time and count.
"""

import base64
import hashlib
import http.client
import os
import socket
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zlib

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import ACCOUNT, REGION, poll, raw_request

MiB = 1024 * 1024
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def s3_client(endpoint, region=REGION, **config):
    """boto3's S3 client as a user makes it (path-style is what botocore picks for an IP endpoint), never retrying."""
    options = dict(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=120, connect_timeout=10)
    options.update(config)
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(**options))


def bucket_name(prefix="b"):
    """A unique, valid bucket name (lower case, digits and dashes, well under 63 characters)."""
    return f"e2e-{prefix}-{uuid.uuid4().hex[:12]}"


def port_of(endpoint):
    parsed = urllib.parse.urlparse(endpoint)
    assert parsed.hostname == "127.0.0.1", endpoint
    return parsed.port


# ------------------------------------------------------------------------------------------
# Buckets
# ------------------------------------------------------------------------------------------


def empty_bucket(s3, bucket):
    """Deletes every object and aborts every multipart upload of the bucket (bounded: 100 pages of each)."""
    for _ in range(100):
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=1000)
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if not keys:
            break
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    for _ in range(100):
        uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        if not uploads:
            break
        for upload in uploads:
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


def remove_bucket(s3, bucket):
    try:
        empty_bucket(s3, bucket)
        s3.delete_bucket(Bucket=bucket)
    except ClientError:
        pass
    except Exception:  # the server may be gone; the session teardown reports that
        pass


class Buckets:
    """Creates buckets with unique names and removes them (with their objects) when the test ends."""

    def __init__(self, s3):
        self.s3 = s3
        self.created = []

    def __call__(self, prefix="b", client=None, **kwargs):
        client = client or self.s3
        name = bucket_name(prefix)
        client.create_bucket(Bucket=name, **kwargs)
        self.created.append((client, name))
        return name

    def track(self, name, client=None):
        self.created.append((client or self.s3, name))

    def cleanup(self):
        for client, name in reversed(self.created):
            remove_bucket(client, name)


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


def expect_s3_error(call, code, status, message=None):
    """Runs call(), which must raise a ClientError with S3's code and HTTP status (and message, when given).
    Returns the parsed error response (its "Error" holds S3's extra elements: BucketName, Key, Condition…)."""
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    got = (response.get("Error", {}).get("Code"), response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    assert got == (code, status), f"expected {code}/{status}, got {got}: {response.get('Error')}"
    if message is not None:
        assert response["Error"].get("Message") == message, \
            f"message was {response['Error'].get('Message')!r}, expected {message!r}"
    return response


def error_of(body):
    """(Code, Message, {child: text}) of an S3 `<Error>` XML body."""
    root = ET.fromstring(body)
    assert root.tag == "Error", body[:500]
    fields = {child.tag: (child.text or "") for child in root}
    return fields.get("Code"), fields.get("Message"), fields


# ------------------------------------------------------------------------------------------
# Digests, computed here from their definitions
# ------------------------------------------------------------------------------------------


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def etag_of(data):
    """A single-part object's ETag as S3 answers it: the MD5 in hex, in double quotes."""
    return f'"{md5_hex(data)}"'


def multipart_etag(parts):
    """S3's ETag of a multipart object: the MD5 of the concatenated binary MD5s of its parts, `-` the part count."""
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def b64(data):
    return base64.b64encode(data).decode()


def crc32_b64(data):
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum S3 names CRC32C."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the algorithm's published check value


def crc32c_b64(data):
    return b64(crc32c(data).to_bytes(4, "big"))


def sha256_b64(data):
    return b64(hashlib.sha256(data).digest())


def md5_b64(data):
    return b64(hashlib.md5(data).digest())


def composite_crc32(parts):
    """S3's COMPOSITE checksum of a multipart object: the CRC32 of the concatenated binary part CRC32s, `-N`."""
    joined = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    return f"{crc32_b64(joined)}-{len(parts)}"


def pattern(marker, size):
    """`size` bytes that repeat a unique 32-byte marker: what a scan of the data directory looks for."""
    assert len(marker) == 32
    return (marker * (size // 32 + 1))[:size]


def new_marker():
    return uuid.uuid4().hex.encode()  # 32 ASCII bytes, unique


# ------------------------------------------------------------------------------------------
# Raw, signed HTTP (virtual hosts, malformed bodies, truncated uploads)
# ------------------------------------------------------------------------------------------


class Raw:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def error(self):
        return error_of(self.body)

    def __repr__(self):
        return f"<Raw {self.status} {self.headers} {self.body[:400]!r}>"


class _S3Signer(S3SigV4Auth):
    """botocore's S3 signer with a payload hash chosen by the caller (botocore always hashes the body over http)."""

    def __init__(self, credentials, region, content_sha256):
        super().__init__(credentials, "s3", region)
        self._content_sha256 = content_sha256

    def payload(self, request):
        return self._content_sha256 or super().payload(request)


def signed_headers(host, method, path, body=b"", headers=None, region=REGION, content_sha256=None):
    """Headers of a request signed as boto3 signs S3 requests (SigV4, service s3, x-amz-content-sha256) for
    http://host/path. `content_sha256` overrides the payload hash (UNSIGNED-PAYLOAD,
    STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body, headers=dict(headers or {}))
    _S3Signer(Credentials("test", "test"), region, content_sha256).add_auth(request)
    out = dict(request.headers.items())
    out["Host"] = host
    return out


def raw_s3(endpoint, method, path, body=b"", headers=None, host=None, sign=True, timeout=60, content_sha256=None):
    """One request to the server (127.0.0.1:<port>) with `Host: host` (default 127.0.0.1:<port>), signed unless
    `sign` is False. `path` is sent as given (already percent-encoded)."""
    port = port_of(endpoint)
    host = host or f"127.0.0.1:{port}"
    body = body or b""
    if sign:
        hdrs = signed_headers(host, method, path, body, headers, content_sha256=content_sha256)
    else:
        hdrs = dict(headers or {})
        hdrs["Host"] = host
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if not any(k.lower() == "content-length" for k in hdrs) and (body or method in ("PUT", "POST")):
            hdrs["Content-Length"] = str(len(body))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body if body else None)
        response = conn.getresponse()
        return Raw(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


def read_response(sock, timeout):
    """Reads what the server answers on a raw socket until it closes or `timeout` passes; b"" if nothing."""
    sock.settimeout(0.5)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(rest) >= length:
                    break
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def status_of(raw_bytes):
    """The status code of a raw HTTP/1.1 response, or None if there was none."""
    if not raw_bytes.startswith(b"HTTP/1."):
        return None
    return int(raw_bytes.split(b" ", 2)[1])


def aws_chunked(data, trailers, chunk=64 * 1024):
    """`data` in aws-chunked encoding without chunk signatures, ending with the trailing headers (the body boto3's
    STREAMING-UNSIGNED-PAYLOAD-TRAILER uploads send)."""
    out = b""
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n"
    for name, value in trailers.items():
        out += f"{name}:{value}\r\n".encode()
    return out + b"\r\n"


# ------------------------------------------------------------------------------------------
# The data directory
# ------------------------------------------------------------------------------------------


def files_containing(root, marker):
    """Paths of regular files under `root` that contain `marker` (read in 4 MiB windows that overlap)."""
    found = []
    overlap = len(marker) - 1
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as f:
                    tail = b""
                    while True:
                        block = f.read(4 * MiB)
                        if not block:
                            break
                        if marker in tail + block:
                            found.append(path)
                            break
                        tail = block[-overlap:]
            except OSError:  # removed while we looked, or not readable (a socket): not a leftover
                continue
    return found


def no_file_contains(root, marker, timeout=15.0, what="the bytes"):
    """Waits (bounded) until no file under `root` holds `marker`; fails naming the files otherwise."""
    last = []

    def clean():
        nonlocal last
        last = files_containing(root, marker)
        return not last

    try:
        poll(clean, timeout=timeout, interval=0.2, what=what)
    except AssertionError:
        raise AssertionError(f"{what}: still on disk after {timeout}s in {last}") from None


# ------------------------------------------------------------------------------------------
# Asynchronous delivery
# ------------------------------------------------------------------------------------------


def async_idle(endpoint, function):
    """True when Nimbus's asynchronous queue holds no pending or running event of `function`."""
    response = raw_request(endpoint, "GET", "/_nimbus/async")
    if response.status != 200:
        return False
    entry = response.json().get("Functions", {}).get(function)
    return entry is None or (entry.get("Pending", 0) == 0 and entry.get("Running", 0) == 0)


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"

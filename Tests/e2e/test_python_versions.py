"""A tiny smoke test over every supported Python runtime; versions the host lacks are skipped.

Nimbus answers Invoke with HTTP 502 InvalidRuntimeException when the runtime's interpreter is missing.
"""

import pytest
from botocore.exceptions import ClientError

from helpers import payload_json

SOURCE = """
import sys
def handler(event, context):
    return {"version": "%d.%d" % sys.version_info[:2], "event": event, "requestId": context.aws_request_id}
"""


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_python_runtime_smoke(lam, functions, version):
    name = functions.python(SOURCE, runtime=f"python{version}")
    try:
        r = lam.invoke(FunctionName=name, Payload=b'{"smoke":true}')
    except ClientError as e:
        err = e.response
        if err["Error"]["Code"] == "InvalidRuntimeException" and err["ResponseMetadata"]["HTTPStatusCode"] == 502:
            pytest.skip(f"python{version} is not available on this host: {err['Error'].get('Message')}")
        raise
    assert r["StatusCode"] == 200 and "FunctionError" not in r, r["Payload"].read()
    body = payload_json(r)
    assert body == {"version": version, "event": {"smoke": True}, "requestId": r["ResponseMetadata"]["RequestId"]}

"""The whole function lifecycle through unmodified boto3, asserting AWS's recorded behaviour.

Golden data: test_lambda_api.snapshot.json TestLambdaFunction::test_function_lifecycle,
test_lambda.snapshot.json TestLambdaFeatures::test_invocation_* (status codes, headers, log tail).
"""

import datetime
import json
import os
import re
import time
import urllib.request

import pytest

from helpers import (
    AWS_RECORDED,
    LAST_MODIFIED_RE,
    PY,
    REPORT_RE,
    ROLE,
    UUID_RE,
    expect_client_error,
    function_arn,
    header,
    log_tail,
    not_found_message,
    payload_json,
    poll,
    py_zip,
    sha256_b64,
    unique,
)

HANDLER_V1 = """
import json, os, tempfile

def handler(event, context):
    print("lifecycle-print-v1 " + json.dumps(event, sort_keys=True))
    out = os.environ.get("OUT_DIR")
    if out and isinstance(event, dict) and event.get("write"):
        tmp = os.path.join(out, context.aws_request_id + ".tmp")
        with open(tmp, "w") as f:
            json.dump({"event": event, "requestId": context.aws_request_id}, f)
        os.rename(tmp, os.path.join(out, context.aws_request_id + ".json"))
    return {
        "version": 1,
        "event": event,
        "requestId": context.aws_request_id,
        "memory": context.memory_limit_in_mb,
        "remainingMs": context.get_remaining_time_in_millis(),
        "myVar": os.environ.get("MY_VAR"),
        "envMemory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
    }
"""

HANDLER_V2 = HANDLER_V1.replace('"version": 1', '"version": 2').replace("lifecycle-print-v1", "lifecycle-print-v2")

# Keys of FunctionConfiguration as AWS recorded them (test_function_lifecycle): create / get.
CREATE_KEYS = {
    "Architectures", "CodeSha256", "CodeSize", "Description", "Environment", "EphemeralStorage", "FunctionArn",
    "FunctionName", "Handler", "LastModified", "LoggingConfig", "MemorySize", "PackageType", "RevisionId", "Role",
    "Runtime", "RuntimeVersionConfig", "SnapStart", "State", "StateReason", "StateReasonCode", "Timeout",
    "TracingConfig", "Version",
}  # fmt: skip
GET_KEYS = (CREATE_KEYS - {"StateReason", "StateReasonCode"}) | {"LastUpdateStatus"}
UPDATE_KEYS = GET_KEYS | {"LastUpdateStatusReason", "LastUpdateStatusReasonCode"}
LIST_KEYS = GET_KEYS - {"State", "LastUpdateStatus", "RuntimeVersionConfig"}


def _config(response):
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def _snapshot():
    path = os.path.join(AWS_RECORDED, "test_lambda_api.snapshot.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def test_expected_key_sets_match_the_recorded_snapshot():
    """Guards the key sets above against the golden data (when shared/ is checked out beside the repo)."""
    snap = _snapshot()
    if snap is None:
        pytest.skip("shared/data/aws-recorded not found beside the repository")
    prefix = "tests/aws/services/lambda_/test_lambda_api.py::"
    rec = snap[prefix + "TestLambdaFunction::test_function_lifecycle"]["recorded-content"]
    assert set(rec["create_response"]["CreateFunctionResponse"]) - {"ResponseMetadata"} == CREATE_KEYS
    assert set(rec["get_function_response"]["Configuration"]) == GET_KEYS
    assert set(rec["update_func_conf_response"]) - {"ResponseMetadata"} == UPDATE_KEYS
    listed = snap[prefix + "TestLambdaFunction::test_list_functions"]["recorded-content"]["list_default"]
    assert set(listed["Functions"][0]) == LIST_KEYS


def _assert_common_config(cfg, name, zip_bytes):
    assert cfg["FunctionName"] == name
    assert cfg["FunctionArn"] == function_arn(name)
    assert cfg["Runtime"] == PY
    assert cfg["Role"] == ROLE
    assert cfg["Handler"] == "app.handler"
    assert cfg["CodeSha256"] == sha256_b64(zip_bytes)
    assert cfg["CodeSize"] == len(zip_bytes)
    assert cfg["Version"] == "$LATEST"
    assert cfg["PackageType"] == "Zip"
    assert cfg["Architectures"] == ["x86_64"]
    assert cfg["EphemeralStorage"] == {"Size": 512}
    assert cfg["TracingConfig"] == {"Mode": "PassThrough"}
    assert cfg["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]+", cfg["RuntimeVersionConfig"]["RuntimeVersionArn"])
    assert UUID_RE.match(cfg["RevisionId"]), cfg["RevisionId"]
    assert LAST_MODIFIED_RE.match(cfg["LastModified"]), cfg["LastModified"]
    modified = datetime.datetime.strptime(cfg["LastModified"], "%Y-%m-%dT%H:%M:%S.%f%z")
    skew = abs((datetime.datetime.now(datetime.timezone.utc) - modified).total_seconds())
    assert skew < 600, f"LastModified {cfg['LastModified']} is {skew:.0f}s away from now"


def test_function_configuration_fields_match_aws(lam, functions):
    name = unique("cfg")
    code = py_zip(HANDLER_V1)
    created = functions.create(code, name=name, Environment={"Variables": {}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    cfg = _config(created)
    assert set(cfg) == CREATE_KEYS, f"missing {CREATE_KEYS - set(cfg)}, unexpected {set(cfg) - CREATE_KEYS}"
    _assert_common_config(cfg, name, code)
    assert cfg["Timeout"] == 3
    assert cfg["MemorySize"] == 128
    assert cfg["Description"] == ""
    assert cfg["Environment"] == {"Variables": {}}
    assert (cfg["State"], cfg["StateReason"], cfg["StateReasonCode"]) == (
        "Pending",
        "The function is being created.",
        "Creating",
    )

    got = lam.get_function(FunctionName=name)
    gcfg = got["Configuration"]
    assert set(gcfg) == GET_KEYS, f"missing {GET_KEYS - set(gcfg)}, unexpected {set(gcfg) - GET_KEYS}"
    _assert_common_config(gcfg, name, code)
    assert (gcfg["State"], gcfg["LastUpdateStatus"]) == ("Active", "Successful")
    assert gcfg["Environment"] == {"Variables": {}}
    assert got["Code"]["RepositoryType"] == "S3"

    # GetFunctionConfiguration returns the same configuration as GetFunction.
    assert _config(lam.get_function_configuration(FunctionName=name)) == gcfg


def test_revision_id_changes_when_a_change_completes(lam, functions):
    """AWS records a new RevisionId once Pending→Active / InProgress→Successful completes (uuid:1 → uuid:2 …)."""
    name = unique("rev")
    created = functions.create(py_zip(HANDLER_V1), name=name)
    active = lam.get_function(FunctionName=name)["Configuration"]
    assert active["RevisionId"] != created["RevisionId"]
    updated = lam.update_function_configuration(FunctionName=name, Description="changed")
    assert updated["RevisionId"] != active["RevisionId"]
    after = lam.get_function(FunctionName=name)["Configuration"]
    assert after["RevisionId"] != updated["RevisionId"]


def test_code_location_serves_the_uploaded_zip(lam, functions):
    name = unique("loc")
    code = py_zip(HANDLER_V1)
    functions.create(code, name=name)
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    assert location.startswith("http://127.0.0.1:"), location
    with urllib.request.urlopen(location, timeout=30) as r:
        assert r.status == 200
        assert r.read() == code
    new_code = py_zip(HANDLER_V2)
    lam.update_function_code(FunctionName=name, ZipFile=new_code)
    location2 = lam.get_function(FunctionName=name)["Code"]["Location"]
    with urllib.request.urlopen(location2, timeout=30) as r:
        assert r.read() == new_code


def test_full_scenario_boto3(lam, functions, tmp_path):
    name = unique("life")
    out_dir = str(tmp_path)
    code_v1 = py_zip(HANDLER_V1)

    # --- create: 201, Pending; then Active, and the waiters finish at once -----------------
    created = functions.create(code_v1, name=name, Environment={"Variables": {"OUT_DIR": out_dir}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["State"] == "Pending"
    assert "LastUpdateStatus" not in created
    t0 = time.monotonic()
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 2})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 2})
    assert time.monotonic() - t0 < 4.5, "the waiters had to wait: the first GetFunction was not Active/Successful"
    got = lam.get_function(FunctionName=name)["Configuration"]
    assert (got["State"], got["LastUpdateStatus"]) == ("Active", "Successful")

    # --- RequestResponse -------------------------------------------------------------------
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"hello": "world"}))
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert header(r, "x-amz-executed-version") == "$LATEST"
    assert "FunctionError" not in r
    request_id = r["ResponseMetadata"]["RequestId"]
    assert request_id == header(r, "x-amzn-RequestId")
    body = payload_json(r)
    assert body["version"] == 1
    assert body["event"] == {"hello": "world"}
    assert body["requestId"] == request_id, "x-amzn-RequestId must be the invocation id the function sees"
    assert body["memory"] == "128"
    assert 0 < body["remainingMs"] <= 3000

    # --- Event: 202, runs asynchronously --------------------------------------------------
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"write": True, "n": 1}))
    assert r["StatusCode"] == 202
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert r["Payload"].read() == b""
    event_id = r["ResponseMetadata"]["RequestId"]
    marker = os.path.join(out_dir, event_id + ".json")
    poll(lambda: os.path.exists(marker), timeout=20, what=f"the Event invocation to write {marker}")
    with open(marker) as f:
        written = json.load(f)
    assert written == {"event": {"write": True, "n": 1}, "requestId": event_id}

    # --- DryRun: 204 -----------------------------------------------------------------------
    r = lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert r["StatusCode"] == 204
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert r["Payload"].read() == b""

    # --- LogType Tail ------------------------------------------------------------------------
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"tail": 1}), LogType="Tail")
    rid = r["ResponseMetadata"]["RequestId"]
    assert payload_json(r)["requestId"] == rid
    tail = log_tail(r)
    assert f"START RequestId: {rid} Version: $LATEST" in tail
    assert f"END RequestId: {rid}" in tail
    assert 'lifecycle-print-v1 {"tail": 1}' in tail
    report = REPORT_RE.search(tail)
    assert report, tail
    assert report.group("id") == rid
    assert report.group("mem") == "128"
    assert tail.index("START RequestId") < tail.index("lifecycle-print-v1") < tail.index("END RequestId")
    assert tail.index("END RequestId") < tail.index("REPORT RequestId")

    # --- update code -------------------------------------------------------------------------
    before = lam.get_function(FunctionName=name)["Configuration"]
    code_v2 = py_zip(HANDLER_V2)
    upd = lam.update_function_code(FunctionName=name, ZipFile=code_v2)
    assert upd["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(_config(upd)) == UPDATE_KEYS, set(_config(upd)) ^ UPDATE_KEYS
    assert (upd["LastUpdateStatus"], upd["LastUpdateStatusReason"], upd["LastUpdateStatusReasonCode"]) == (
        "InProgress",
        "The function is being created.",
        "Creating",
    )
    assert upd["State"] == "Active"
    assert upd["CodeSha256"] == sha256_b64(code_v2) != before["CodeSha256"]
    assert upd["CodeSize"] == len(code_v2)
    assert upd["RevisionId"] != before["RevisionId"]
    assert upd["LastModified"] >= before["LastModified"]
    t0 = time.monotonic()
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 2})
    assert time.monotonic() - t0 < 4.5
    assert lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"] == "Successful"
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert payload_json(r)["version"] == 2, "invoke after UpdateFunctionCode still ran the old code"

    # --- update configuration ----------------------------------------------------------------
    before = lam.get_function(FunctionName=name)["Configuration"]
    upd = lam.update_function_configuration(
        FunctionName=name,
        Environment={"Variables": {"OUT_DIR": out_dir, "MY_VAR": "my-value"}},
        MemorySize=256,
        Timeout=10,
        Description="changed",
    )
    assert upd["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(_config(upd)) == UPDATE_KEYS, set(_config(upd)) ^ UPDATE_KEYS
    assert (upd["MemorySize"], upd["Timeout"], upd["Description"]) == (256, 10, "changed")
    assert upd["Environment"] == {"Variables": {"OUT_DIR": out_dir, "MY_VAR": "my-value"}}
    assert upd["LastUpdateStatus"] == "InProgress"
    assert upd["RevisionId"] != before["RevisionId"]
    assert upd["CodeSha256"] == before["CodeSha256"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 2})
    r = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    body = payload_json(r)
    assert body["myVar"] == "my-value"
    assert body["memory"] == "256"
    assert body["envMemory"] == "256"
    assert 3000 < body["remainingMs"] <= 10000
    assert REPORT_RE.search(log_tail(r)).group("mem") == "256"

    # Environment is replaced as a whole.
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"OUT_DIR": out_dir}})
    assert payload_json(lam.invoke(FunctionName=name, Payload=b"{}"))["myVar"] is None

    # --- delete ------------------------------------------------------------------------------
    deleted = lam.delete_function(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert deleted["StatusCode"] == 204
    expect_client_error(
        lambda: lam.get_function(FunctionName=name),
        "ResourceNotFoundException",
        404,
        message=not_found_message(name),
        exc_class=lam.exceptions.ResourceNotFoundException,
    )
    # (Invoke of a deleted function: see test_errors.py::test_unknown_function_get_invoke_delete.)


def test_list_functions_pagination(lam, functions):
    prefix = unique("page")
    names = [f"{prefix}-{i}" for i in range(7)]
    for n in names:
        functions.create(py_zip(HANDLER_V1), name=n)

    # One raw page of 2.
    first = lam.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2
    assert first.get("NextMarker")

    # The paginator walks every page of 2; each function appears exactly once; the last page has no NextMarker.
    seen, pages = [], []
    for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
        pages.append(page)
        assert len(page["Functions"]) <= 2
        seen.extend(f["FunctionName"] for f in page["Functions"])
        if len(pages) > 500:
            pytest.fail("paginator did not terminate")
    assert all(p.get("NextMarker") for p in pages[:-1])
    assert not pages[-1].get("NextMarker")
    assert len(seen) == len(set(seen)), "a function was returned twice across pages"
    for n in names:
        assert seen.count(n) == 1, n
    for page in pages:
        for f in page["Functions"]:
            if f["FunctionName"] in names:
                assert set(f) == LIST_KEYS, set(f) ^ LIST_KEYS
                assert f["FunctionArn"] == function_arn(f["FunctionName"])

    # MaxItems through the paginator: exactly 2 items and a resume token.
    limited = lam.get_paginator("list_functions").paginate(PaginationConfig={"MaxItems": 2, "PageSize": 2})
    result = limited.build_full_result()
    assert len(result["Functions"]) == 2
    assert result.get("NextToken")


def test_handler_and_runtime_updates_take_effect(lam, functions):
    source = (
        "import sys\n"
        "def one(event, context):\n    return {'h': 'one', 'py': '%d.%d' % sys.version_info[:2]}\n"
        "def two(event, context):\n    return {'h': 'two', 'py': '%d.%d' % sys.version_info[:2]}\n"
    )
    name = unique("upd")
    functions.create(py_zip(source), name=name, handler="app.one")
    assert payload_json(lam.invoke(FunctionName=name)) == {"h": "one", "py": "3.12"}
    lam.update_function_configuration(FunctionName=name, Handler="app.two")
    assert payload_json(lam.invoke(FunctionName=name)) == {"h": "two", "py": "3.12"}
    lam.update_function_configuration(FunctionName=name, Runtime="python3.11")
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == "python3.11"
    assert payload_json(lam.invoke(FunctionName=name)) == {"h": "two", "py": "3.11"}


def test_recreate_after_delete_runs_the_new_code(lam, functions):
    name = unique("recreate")
    functions.create(py_zip(HANDLER_V1), name=name)
    assert payload_json(lam.invoke(FunctionName=name))["version"] == 1  # leaves a warm environment
    lam.delete_function(FunctionName=name)
    created = functions.create(py_zip(HANDLER_V2), name=name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert payload_json(lam.invoke(FunctionName=name))["version"] == 2

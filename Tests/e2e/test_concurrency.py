"""Reserved concurrency and throttling (TestLambdaReservedConcurrency, TestLambdaConcurrency in the recorded AWS
data): the API, AWS's limits and messages, and exact enforcement."""

import json
import threading
import time

from helpers import (
    expect_client_error,
    function_arn,
    header,
    not_found_message,
    payload_json,
    py_zip,
    raw_request,
    unique,
)

SLEEPER = """
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"version": context.function_version}
"""

MINIMUM_UNRESERVED = (
    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below "
    "its minimum value of [100]."
)
QUALIFIED_NOT_ALLOWED = (
    "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. "
    "Please specify either a function name or an unqualified function ARN."
)


def sleeper(functions, **kwargs):
    return functions.create(py_zip(SLEEPER), Timeout=30, **kwargs)["FunctionName"]


def concurrency_figures(endpoint, name):
    """Nimbus's per-function figures (reservation, running invocations, throttle count)."""
    response = raw_request(endpoint, "GET", "/_nimbus/concurrency")
    assert response.status == 200, response
    return response.json()["Functions"].get(name, {"ConcurrentExecutions": 0, "Throttles": 0})


def invoke_together(lam, name, count, payload, qualifier=None):
    """Starts `count` invokes at the same instant; returns (status, reason or body, executed version) per call."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        params = {"FunctionName": name, "Payload": json.dumps(payload).encode()}
        if qualifier:
            params["Qualifier"] = qualifier
        barrier.wait(timeout=30)
        try:
            r = lam.invoke(**params)
            results[i] = (r["StatusCode"], payload_json(r), r.get("ExecutedVersion"))
        except lam.exceptions.TooManyRequestsException as e:
            results[i] = (429, e.response, None)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in results), results
    return results


def test_concurrency_crud(lam, functions):
    name = sleeper(functions)
    empty = lam.get_function_concurrency(FunctionName=name)
    assert empty["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(empty) == {"ResponseMetadata"}
    assert "Concurrency" not in lam.get_function(FunctionName=name)

    put0 = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    assert (put0["ResponseMetadata"]["HTTPStatusCode"], put0["ReservedConcurrentExecutions"]) == (200, 0)
    put1 = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert put1["ReservedConcurrentExecutions"] == 1
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 1
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 1}

    deleted = lam.delete_function_concurrency(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert set(lam.get_function_concurrency(FunctionName=name)) == {"ResponseMetadata"}
    assert "Concurrency" not in lam.get_function(FunctionName=name)


def test_account_settings_count_reservations(lam, functions):
    name = sleeper(functions)
    before = lam.get_account_settings()["AccountLimit"]
    assert before["ConcurrentExecutions"] == 1000
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=7)
    during = lam.get_account_settings()["AccountLimit"]
    assert during["UnreservedConcurrentExecutions"] == before["UnreservedConcurrentExecutions"] - 7
    lam.delete_function(FunctionName=name)
    after = lam.get_account_settings()["AccountLimit"]
    assert after["UnreservedConcurrentExecutions"] == before["UnreservedConcurrentExecutions"]


def test_concurrency_errors(lam, lam_unvalidated, functions):
    missing = unique("missing")
    for value in (1, 0):
        expect_client_error(
            lambda: lam.put_function_concurrency(FunctionName=missing, ReservedConcurrentExecutions=value),
            "ResourceNotFoundException", 404, not_found_message(missing, "$LATEST"),
        )  # fmt: skip
    expect_client_error(
        lambda: lam.get_function_concurrency(FunctionName=missing), "ResourceNotFoundException", 404,
        not_found_message(missing),
    )  # fmt: skip
    expect_client_error(
        lambda: lam.delete_function_concurrency(FunctionName=missing), "ResourceNotFoundException", 404,
        not_found_message(missing),
    )  # fmt: skip

    name = sleeper(functions)
    expect_client_error(
        lambda: lam.put_function_concurrency(FunctionName=function_arn(name, "$LATEST"), ReservedConcurrentExecutions=0),
        "InvalidParameterValueException", 400, QUALIFIED_NOT_ALLOWED,
    )  # fmt: skip
    limit = lam.get_account_settings()["AccountLimit"]
    unreserved = limit["UnreservedConcurrentExecutions"]
    for value in (limit["ConcurrentExecutions"] + 1, limit["ConcurrentExecutions"], unreserved - 99):
        expect_client_error(
            lambda: lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value),
            "InvalidParameterValueException", 400, MINIMUM_UNRESERVED,
        )  # fmt: skip
    # The largest reservation that still leaves 100 unreserved is accepted.
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=unreserved - 100)[
        "ReservedConcurrentExecutions"
    ] == unreserved - 100
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    lam.delete_function_concurrency(FunctionName=name)
    expect_client_error(
        lambda: lam_unvalidated.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=-1),
        "ValidationException", 400,
        "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: "
        "Member must have value greater than or equal to 0",
    )  # fmt: skip


def test_reserved_zero_throttles_every_invoke(lam, functions, endpoint):
    name = sleeper(functions)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    for _ in range(3):
        err = expect_client_error(
            lambda: lam.invoke(FunctionName=name, Payload=b"{}"), "TooManyRequestsException", 429, "Rate Exceeded.",
            exc_class=lam.exceptions.TooManyRequestsException,
        )  # fmt: skip
        # AWS's body: {"Reason": …, "Type": "User", "message": "Rate Exceeded."}, and a Retry-After header.
        assert err.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert err.response["Type"] == "User"
        assert int(err.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) >= 1
    raw = raw_request(endpoint, "POST", f"/2015-03-31/functions/{name}/invocations", body=b"{}")
    assert raw.status == 429
    assert raw.headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert raw.json() == {
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded.",
    }  # fmt: skip
    figures = concurrency_figures(endpoint, name)
    assert (figures["ReservedConcurrentExecutions"], figures["Throttles"]) == (0, 4)
    # DryRun only checks that the function exists; it takes no slot.
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    lam.delete_function_concurrency(FunctionName=name)
    assert payload_json(lam.invoke(FunctionName=name, Payload=b"{}")) == {"version": "$LATEST"}


def test_reserved_concurrency_is_exact(lam, functions, endpoint):
    """Reserved 2 and 6 simultaneous invokes of a function sleeping 1 s: exactly 2 run, exactly 4 are throttled."""
    name = sleeper(functions)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    for round_number in range(2):  # cold environments, then warm ones
        results = invoke_together(lam, name, 6, {"sleep": 1})
        ok = [r for r in results if r[0] == 200]
        throttled = [r for r in results if r[0] == 429]
        assert (len(ok), len(throttled)) == (2, 4), f"round {round_number}: {results}"
        print(f"exactness round {round_number}: {len(ok)} ran, {len(throttled)} throttled")
        for _, response, _ in throttled:
            assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
            assert response["Error"]["Message"] == "Rate Exceeded."
        figures = concurrency_figures(endpoint, name)
        assert figures["Throttles"] == 4 * (round_number + 1)
        assert figures["ConcurrentExecutions"] == 0
    # Slots come back: sequential invokes all run.
    for _ in range(3):
        assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


def test_reservation_covers_every_version(lam, functions, endpoint):
    name = sleeper(functions)
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    results = {}

    def slow():
        results["v1"] = lam.invoke(FunctionName=name, Qualifier="1", Payload=b'{"sleep": 2}')

    t = threading.Thread(target=slow)
    t.start()
    deadline = time.monotonic() + 20
    while concurrency_figures(endpoint, name)["ConcurrentExecutions"] < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    err = expect_client_error(
        lambda: lam.invoke(FunctionName=name, Payload=b"{}"), "TooManyRequestsException", 429, "Rate Exceeded."
    )
    assert err.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    t.join(timeout=30)
    assert results["v1"]["ExecutedVersion"] == "1" and header(results["v1"], "X-Amz-Executed-Version") == "1"


def test_unreserved_functions_are_not_limited_by_others(lam, functions):
    reserved = sleeper(functions)
    free = sleeper(functions)
    lam.put_function_concurrency(FunctionName=reserved, ReservedConcurrentExecutions=1)
    results = invoke_together(lam, free, 4, {"sleep": 0.5})
    assert [r[0] for r in results] == [200] * 4


def test_concurrency_with_the_aws_cli(aws, lam, functions, tmp_path):
    name = sleeper(functions)
    put = json.loads(
        aws("lambda", "put-function-concurrency", "--function-name", name, "--reserved-concurrent-executions", "0").stdout
    )
    assert put == {"ReservedConcurrentExecutions": 0}
    got = json.loads(aws("lambda", "get-function-concurrency", "--function-name", name).stdout)
    assert got == {"ReservedConcurrentExecutions": 0}
    throttled = aws("lambda", "invoke", "--function-name", name, str(tmp_path / "out.json"), check=False)
    assert throttled.returncode != 0
    assert "(TooManyRequestsException) when calling the Invoke operation" in throttled.stderr
    assert "Rate Exceeded." in throttled.stderr
    deleted = aws("lambda", "delete-function-concurrency", "--function-name", name)
    assert deleted.stdout.strip() == ""
    # An empty answer ({}): the CLI prints nothing.
    assert aws("lambda", "get-function-concurrency", "--function-name", name).stdout.strip() == ""
    aws("lambda", "invoke", "--function-name", name, str(tmp_path / "out.json"))
    assert json.loads((tmp_path / "out.json").read_text()) == {"version": "$LATEST"}

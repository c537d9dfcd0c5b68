"""Asynchronous invocation (issue #5): the durable queue, retries, destinations, FunctionEventInvokeConfig.

The session server runs with `--async-retry-base 0.2` (AWS: ~60 s) and short throttle backoffs. Results are
observed through SQS destination queues (`arn:aws:sqs:…:<name>`, read with boto3's ReceiveMessage) and
the function's logs. The crash test starts its own server, `kill -9`s it mid-burst and restarts it on the same data
directory.
"""

import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor


import helpers
from servers import RestartableServer
from helpers import ACCOUNT, REGION, expect_client_error, function_arn, poll, raw_request

OK_SOURCE = """
def handler(event, context):
    return {"echo": event, "id": context.aws_request_id}
"""

FAIL_SOURCE = """
def handler(event, context):
    raise Exception("intentional failure")
"""


def queue_arn(name):
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def sqs_client(endpoint):
    import boto3
    from botocore.config import Config

    return boto3.client("sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


def new_queue(endpoint):
    """A new SQS queue on the server at `endpoint`: destinations and dead-letter queues are real queues."""
    name = f"q-{uuid.uuid4().hex[:12]}"
    sqs_client(endpoint).create_queue(QueueName=name)
    return name, queue_arn(name)


# Every message read from each queue so far (reading deletes them from the queue).
_received = {}


def queue_messages(endpoint, name):
    """Every message that has reached queue `name`, in SQS's ReceiveMessage shape (Body, MessageAttributes)."""
    sqs = sqs_client(endpoint)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    got = _received.setdefault(name, [])
    for _ in range(1000):  # bounded: at most 10,000 messages a call
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        got += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(batch)])
    return list(got)


def wait_messages(endpoint, name, count, timeout=30.0):
    return poll(lambda: (m if len(m := queue_messages(endpoint, name)) >= count else None), timeout=timeout,
                interval=0.1, what=f"{count} message(s) on queue {name}")


def invoke_event(lam, name, payload):
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode())
    assert r["StatusCode"] == 202
    assert r["Payload"].read() == b""
    return r["ResponseMetadata"]["RequestId"]


def test_event_runs_and_on_success_record_reaches_a_queue(lam, endpoint, functions):
    fn = functions.python(OK_SOURCE)
    qname, qarn = new_queue(endpoint)
    lam.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": qarn}})
    request_id = invoke_event(lam, fn, {"hello": "async"})
    [message] = wait_messages(endpoint, qname, 1)
    record = json.loads(message["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": function_arn(fn, "$LATEST"), "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == {"hello": "async"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"echo": {"hello": "async"}, "id": request_id}


def test_always_failing_function_runs_exactly_retries_plus_one_times(lam, logs, endpoint, functions):
    fn = functions.python(FAIL_SOURCE)
    qname, qarn = new_queue(endpoint)
    lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": qarn}})
    request_id = invoke_event(lam, fn, {"n": 1})
    [message] = wait_messages(endpoint, qname, 1)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["requestId"] == request_id
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "intentional failure"
    assert record["responsePayload"]["errorType"] == "Exception"

    def starts():
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{fn}")["events"]
        return [e for e in events if e["message"].startswith(f"START RequestId: {request_id}")]

    found = poll(lambda: (s if len(s := starts()) >= 2 else None), timeout=10, what="two START lines")
    time.sleep(0.6)  # a third attempt would come 0.4 s after the second
    assert len(starts()) == 2, found


def test_default_retries_and_dead_letter_queue(lam, endpoint, functions):
    qname, qarn = new_queue(endpoint)
    fn = functions.python(FAIL_SOURCE, DeadLetterConfig={"TargetArn": qarn})
    request_id = invoke_event(lam, fn, {"raise_error": 1})
    [message] = wait_messages(endpoint, qname, 1, timeout=30)
    assert json.loads(message["Body"]) == {"raise_error": 1}
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"] == {"DataType": "String", "StringValue": request_id}
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"] == {"DataType": "String", "StringValue": "intentional failure"}
    stats = raw_request(endpoint, "GET", "/_nimbus/async").json()["Functions"][fn]
    assert stats["DeadLettered"] == 1
    assert stats["Retries"] == 2
    assert stats["Pending"] == 0


def test_function_destination_gets_the_invocation_record(lam, endpoint, functions):
    qname, qarn = new_queue(endpoint)
    target = functions.python(OK_SOURCE)
    lam.put_function_event_invoke_config(FunctionName=target, DestinationConfig={"OnSuccess": {"Destination": qarn}})
    source = functions.python(FAIL_SOURCE)
    lam.put_function_event_invoke_config(
        FunctionName=source, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": function_arn(target)}})
    request_id = invoke_event(lam, source, {"k": "v"})
    [message] = wait_messages(endpoint, qname, 1)
    delivered = json.loads(message["Body"])["requestPayload"]
    assert delivered["requestContext"]["requestId"] == request_id
    assert delivered["requestContext"]["condition"] == "RetriesExhausted"
    assert delivered["requestContext"]["approximateInvokeCount"] == 1
    assert delivered["requestPayload"] == {"k": "v"}


def test_event_invoke_config_lifecycle(lam, functions):
    fn = functions.python(OK_SOURCE)
    latest = function_arn(fn, "$LATEST")
    put = lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=0)
    assert put["FunctionArn"] == latest
    assert put["MaximumRetryAttempts"] == 0
    assert "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnFailure": {}, "OnSuccess": {}}
    assert put["LastModified"].timestamp() > time.time() - 60
    # PUT replaces everything.
    put = lam.put_function_event_invoke_config(FunctionName=fn, MaximumEventAgeInSeconds=60)
    assert put["MaximumEventAgeInSeconds"] == 60 and "MaximumRetryAttempts" not in put
    # POST merges.
    upd = lam.update_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=1)
    assert (upd["MaximumEventAgeInSeconds"], upd["MaximumRetryAttempts"]) == (60, 1)
    got = lam.get_function_event_invoke_config(FunctionName=fn, Qualifier="$LATEST")
    assert (got["FunctionArn"], got["MaximumEventAgeInSeconds"], got["MaximumRetryAttempts"]) == (latest, 60, 1)
    listed = lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [latest]
    # Per qualifier: a published version has its own.
    version = lam.publish_version(FunctionName=fn)["Version"]
    put_v = lam.put_function_event_invoke_config(FunctionName=fn, Qualifier=version, MaximumRetryAttempts=2)
    assert put_v["FunctionArn"] == function_arn(fn, version)
    assert len(lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"]) == 2
    r = lam.delete_function_event_invoke_config(FunctionName=fn)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.delete_function_event_invoke_config(FunctionName=fn, Qualifier=version)
    assert lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"] == []
    expect_client_error(
        lambda: lam.get_function_event_invoke_config(FunctionName=fn), "ResourceNotFoundException", 404,
        f"The function {latest} doesn't have an EventInvokeConfig")


def test_event_invoke_config_errors(lam, functions):
    fn = functions.python(OK_SOURCE)
    other = functions.python(OK_SOURCE)
    missing = helpers.unique("missing")
    expect_client_error(
        lambda: lam.put_function_event_invoke_config(FunctionName=missing, MaximumRetryAttempts=1),
        "ResourceNotFoundException", 404, "The function doesn't exist.")
    expect_client_error(
        lambda: lam.put_function_event_invoke_config(FunctionName=fn),
        "InvalidParameterValueException", 400,
        "You must specify at least one of error handling or destination setting.")
    expect_client_error(
        lambda: lam.put_function_event_invoke_config(
            FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": function_arn(fn)}}),
        "InvalidParameterValueException", 400, "You can't specify the function as a destination for itself.")
    nowhere = function_arn("doesnotexist")
    expect_client_error(
        lambda: lam.put_function_event_invoke_config(
            FunctionName=fn, DestinationConfig={"OnFailure": {"Destination": nowhere}}),
        "InvalidParameterValueException", 400, f"The destination ARN {nowhere} is invalid.")
    iam = f"arn:aws:iam:{REGION}:{ACCOUNT}:function:{fn}"
    expect_client_error(
        lambda: lam.put_function_event_invoke_config(
            FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": iam}}),
        "InvalidParameterValueException", 400,
        f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination={iam}), onFailure=null) is invalid.")
    ok = lam.put_function_event_invoke_config(
        FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": function_arn(other)}})
    assert ok["DestinationConfig"] == {"OnFailure": {}, "OnSuccess": {"Destination": function_arn(other)}}
    expect_client_error(
        lambda: lam.put_function_event_invoke_config(FunctionName=fn, Qualifier="nope", MaximumRetryAttempts=1),
        "ResourceNotFoundException", 404, "The function doesn't exist.")
    expect_client_error(
        lambda: lam.put_function_event_invoke_config(FunctionName=f"{fn}:1", Qualifier="2", MaximumRetryAttempts=1),
        "InvalidParameterValueException", 400,
        "The derived qualifier from the function name does not match the specified qualifier.")
    expect_client_error(
        lambda: lam.update_function_event_invoke_config(FunctionName=other, MaximumRetryAttempts=1),
        "ResourceNotFoundException", 404,
        f"The function {function_arn(other, '$LATEST')} doesn't have an EventInvokeConfig")
    expect_client_error(
        lambda: lam.delete_function_event_invoke_config(FunctionName=missing),
        "ResourceNotFoundException", 404,
        f"The function {function_arn(missing, '$LATEST')} doesn't have an EventInvokeConfig")
    expect_client_error(
        lambda: lam.list_function_event_invoke_configs(FunctionName=missing),
        "ResourceNotFoundException", 404, "The function doesn't exist.")
    # Range checks (sent raw: boto3 validates ranges itself).
    for body, member, bound in [
        ({"MaximumRetryAttempts": 3}, "maximumRetryAttempts", "less than or equal to 2"),
        ({"MaximumEventAgeInSeconds": 59}, "maximumEventAgeInSeconds", "greater than or equal to 60"),
        ({"MaximumEventAgeInSeconds": 21601}, "maximumEventAgeInSeconds", "less than or equal to 21600"),
    ]:
        r = helpers.raw_json(lam.meta.endpoint_url, "PUT", f"/2019-09-25/functions/{fn}/event-invoke-config", body)
        assert r.status == 400, r
        value = list(body.values())[0]
        assert r.json()["message"] == (
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must have value {bound}")


def test_throttled_events_wait_without_consuming_retries(lam, endpoint, functions):
    fn = functions.python(OK_SOURCE)
    qname, qarn = new_queue(endpoint)
    lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumRetryAttempts=0, DestinationConfig={"OnSuccess": {"Destination": qarn}})
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    request_id = invoke_event(lam, fn, {"t": 1})

    def stats():
        return raw_request(endpoint, "GET", "/_nimbus/async").json()["Functions"].get(fn)

    poll(lambda: (s := stats()) and s["Pending"] + s["Running"] == 1 and s["OldestPendingAgeSeconds"] > 0.5,
         timeout=10, what="a throttled event waiting")
    assert queue_messages(endpoint, qname) == []
    lam.delete_function_concurrency(FunctionName=fn)
    [message] = wait_messages(endpoint, qname, 1, timeout=15)
    record = json.loads(message["Body"])
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_throttled_event_expires_to_on_failure_with_event_age_exceeded(lam, endpoint, functions):
    """MaximumEventAgeInSeconds' minimum is 60: this test waits about a minute."""
    fn = functions.python(OK_SOURCE)
    qname, qarn = new_queue(endpoint)
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumEventAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": qarn}})
    started = time.monotonic()
    request_id = invoke_event(lam, fn, {"old": True})
    [message] = wait_messages(endpoint, qname, 1, timeout=75)
    waited = time.monotonic() - started
    assert 59 <= waited <= 70, waited
    record = json.loads(message["Body"])
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"old": True}
    assert record["responseContext"]["statusCode"] == 429
    stats = raw_request(endpoint, "GET", "/_nimbus/async").json()["Functions"][fn]
    assert (stats["Pending"], stats["DeadLettered"]) == (0, 1)


NOOP_SOURCE = """
def handler(event, context):
    return {"i": event.get("i")}
"""


def test_a_backlog_drains_within_reserved_concurrency_without_throttles_or_backoffs(lam, endpoint, functions):
    """Issue #13, item 4: the dispatcher takes only what the function's free concurrency allows. A backlog of a few
    hundred events (built while the function is paused with reserved concurrency 0, as a restarted server finds
    one) drains at reserved concurrency 3 without a single throttle: no event is ever rescheduled or backed off."""
    fn = functions.python(NOOP_SOURCE)
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    path = f"/2015-03-31/functions/{fn}/invocations"
    total = 300

    def send(i):
        r = raw_request(endpoint, "POST", path, body=json.dumps({"i": i}).encode(),
                        headers={"X-Amz-Invocation-Type": "Event"})
        assert r.status == 202, r
        return r.headers["x-amzn-requestid"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        accepted = set(pool.map(send, range(total)))
    assert len(accepted) == total

    def stats():
        return raw_request(endpoint, "GET", "/_nimbus/async").json()["Functions"].get(fn)

    def throttles():
        figures = raw_request(endpoint, "GET", "/_nimbus/concurrency").json()["Functions"].get(fn, {})
        return figures.get("Throttles", 0)

    # Paused: the events wait untouched (a function without room is not dispatched to, so it is not throttled).
    waiting = stats()
    assert (waiting["Pending"], waiting["Running"]) == (total, 0), waiting
    assert throttles() == 0
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=3)
    drained = poll(lambda: (s if (s := stats()) and s["Pending"] + s["Running"] == 0 else None), timeout=120,
                   interval=0.1, what=f"{total} events to drain")
    assert (drained["Retries"], drained["DeadLettered"]) == (0, 0), drained
    assert throttles() == 0
    done = raw_request(endpoint, "GET", f"/_nimbus/async/events?Function={fn}&State=done").json()["Events"]
    assert {e["RequestId"] for e in done} == accepted
    rescheduled = [e for e in done if e["Attempts"] != 1 or e["NextAttemptAt"] != e["EnqueuedAt"] or "LastError" in e]
    assert rescheduled == [], rescheduled[:3]


# ------------------------------------------------------------------------------------------
# Crash safety: every accepted event runs at least once across a kill -9
# ------------------------------------------------------------------------------------------


SLOW_SOURCE = """
import time
def handler(event, context):
    time.sleep(0.1)  # with reserved concurrency 8, 80 events/s: a backlog is pending when the server is killed
    return {"id": context.aws_request_id}
"""


def test_accepted_events_survive_kill_9(tmp_path):
    import boto3
    from botocore.config import Config

    data_dir = str(tmp_path / "data")
    os.makedirs(data_dir)
    server = RestartableServer(
        data_dir, "--async-retry-base", "0.2", "--async-throttle-base", "0.05", "--async-throttle-max", "0.2")
    server.start()
    try:
        lam = boto3.client(
            "lambda", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id="test",
            aws_secret_access_key="test", config=Config(retries={"max_attempts": 0, "mode": "standard"}))
        fn = helpers.unique("crash")
        lam.create_function(FunctionName=fn, Runtime=helpers.PY, Role=helpers.ROLE, Handler="app.handler",
                            Code={"ZipFile": helpers.py_zip(SLOW_SOURCE)})
        qname, qarn = new_queue(server.endpoint)
        lam.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": qarn}})
        # The issue #13 case too: a backlog bounded by reserved concurrency (persisted) drains after the restart.
        lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=8)
        path = f"/2015-03-31/functions/{fn}/invocations"
        accepted = []
        lock = threading.Lock()
        stop = threading.Event()
        endpoint = server.endpoint

        def send(i):
            if stop.is_set():
                return
            try:
                r = raw_request(endpoint, "POST", path, body=json.dumps({"i": i}).encode(),
                                headers={"X-Amz-Invocation-Type": "Event"}, timeout=10)
            except OSError:
                return
            if r.status == 202:
                with lock:
                    accepted.append(r.headers["x-amzn-requestid"])

        total = 1000
        deadline = time.monotonic() + 40
        killed_at = None
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(send, i) for i in range(total)]
            while time.monotonic() < deadline:
                with lock:
                    n = len(accepted)
                if killed_at is None and n >= total // 2:
                    server.kill9()  # mid-burst and mid-processing
                    killed_at = n
                    stop.set()
                if all(f.done() for f in futures):
                    break
                time.sleep(0.005)
        assert killed_at is not None, f"only {len(accepted)} events accepted within the time bound"
        server.start()  # the same data directory
        want = set(accepted)
        at_restart = len(queue_messages(server.endpoint, qname))

        def ran():
            messages = queue_messages(server.endpoint, qname)
            ids = [json.loads(m["Body"])["requestContext"]["requestId"] for m in messages]
            return ids if want <= set(ids) else None

        ids = poll(ran, timeout=45, interval=0.25, what="every accepted event to run")
        duplicates = len(ids) - len(set(ids))
        with open(server.stderr_path, errors="replace") as f:
            recovered = [line.strip() for line in f if "recovered after an unclean stop" in line]
        print(f"\ncrash test: accepted={len(accepted)} ran={len(want & set(ids))} duplicates={duplicates} "
              f"(kill -9 after {killed_at} accepted; {at_restart} results stored at restart; {recovered})")
        assert at_restart < len(want), "the kill came after every event had run: nothing was tested"
        assert want <= set(ids)
    finally:
        server.stop()


def test_queue_cli_lists_dead_letters_and_redrives(lam, endpoint, functions):
    binary = os.environ.get("NIMBUS_BIN") or os.path.join(helpers.REPO, ".build", "debug", "nimbus")
    fn = functions.python(FAIL_SOURCE)
    qname, qarn = new_queue(endpoint)
    lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumRetryAttempts=0, DestinationConfig={"OnSuccess": {"Destination": qarn}})
    request_id = invoke_event(lam, fn, {"redrive": True})

    def dead():
        s = raw_request(endpoint, "GET", "/_nimbus/async").json()["Functions"].get(fn)
        return s and s["DeadLettered"] == 1

    poll(dead, timeout=15, what="a dead-lettered event")
    listed = helpers.run_cmd([binary, "queue", "--function", fn, "--endpoint", endpoint], timeout=30)
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(request_id)]
    assert row.split()[1:4] == [fn, "dead", "1"], row
    lam.update_function_code(FunctionName=fn, ZipFile=helpers.py_zip(OK_SOURCE))
    redriven = helpers.run_cmd([binary, "queue", "redrive", fn, "--endpoint", endpoint], timeout=30)
    assert redriven.returncode == 0, redriven.stderr
    assert redriven.stdout.strip() == f"Re-enqueued 1 dead-lettered event of {fn}"
    [message] = wait_messages(endpoint, qname, 1)
    record = json.loads(message["Body"])
    assert record["requestContext"]["requestId"] == request_id
    assert record["responsePayload"] == {"echo": {"redrive": True}, "id": request_id}

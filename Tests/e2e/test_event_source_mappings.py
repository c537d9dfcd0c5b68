"""Event source mappings from SQS queues (issue #13): the Lambda API as AWS records it, and the pollers' semantics —
batches, deletes on success, partial batch failures, redrive to a dead-letter queue, filters, disabling, and a kill -9
mid-drain that loses no message. Unmodified boto3 against the session server (process tier: the functions write
what they saw into a directory the test reads)."""

import json
import os
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import helpers
from helpers import REGION, poll, py_zip, unique
from servers import RestartableServer

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
PY = "python3.12"

# Records what each invocation saw (one file per invocation: "<messageId> <body>" lines) and reports the messages
# whose body contains "bad" as failed.
WORKER_SOURCE = """
import json, os

def handler(event, context):
    out = os.environ["OUT_DIR"]
    records = event["Records"]
    if os.environ.get("KEEP_EVENT"):
        with open(os.path.join(out, context.aws_request_id + ".event"), "w") as f:
            json.dump(event, f)
    with open(os.path.join(out, context.aws_request_id + ".txt"), "w") as f:
        f.write("\\n".join(r["messageId"] + " " + r["body"] for r in records))
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if "bad" in r["body"]]}
"""


def sqs_client(endpoint):
    return boto3.client(
        "sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60, connect_timeout=10))


@pytest.fixture(scope="module")
def sqs(endpoint):
    return sqs_client(endpoint)


@pytest.fixture
def out_dir(tmp_path):
    os.chmod(tmp_path, 0o777)
    return str(tmp_path)


def seen(out_dir):
    """(messageId, body) of every record every invocation saw, in no particular order; and the invocation count."""
    records, invocations = [], 0
    for name in os.listdir(out_dir):
        if name.endswith(".txt"):
            invocations += 1
            with open(os.path.join(out_dir, name)) as f:
                records += [tuple(line.split(" ", 1)) for line in f.read().splitlines() if line]
    return records, invocations


def queue(sqs, name=None, **attributes):
    url = sqs.create_queue(QueueName=name or unique("q"), Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def depth(sqs, url):
    a = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def send_all(sqs, url, bodies):
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start:start + 10])]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def worker(functions, out_dir, **env):
    return functions.python(WORKER_SOURCE, Timeout=30, Environment={"Variables": {"OUT_DIR": out_dir, **env}})


def expect_error(call, code, status, message=None):
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), error
    if message is not None:
        assert error["Error"]["Message"] == message, error


# ------------------------------------------------------------------------------------------
# The API
# ------------------------------------------------------------------------------------------

MAPPING_KEYS = {
    "UUID", "BatchSize", "EventSourceArn", "EventSourceMappingArn", "FunctionArn", "FunctionResponseTypes",
    "LastModified", "MaximumBatchingWindowInSeconds", "State", "StateTransitionReason", "LastProcessingResult",
}


def test_mapping_lifecycle_as_aws_records_it(lam, sqs, functions, out_dir):
    name = worker(functions, out_dir)
    _, arn = queue(sqs)
    created = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    uuid = created["UUID"]
    # Recorded (test_function_name_variations): Creating, batch 10, no window, USER_INITIATED.
    assert (created["State"], created["BatchSize"], created["MaximumBatchingWindowInSeconds"]) == ("Creating", 10, 0)
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["FunctionArn"] == helpers.function_arn(name)
    assert created["EventSourceMappingArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{uuid}"
    assert created["FunctionResponseTypes"] == []
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled" and set(got) - {"ResponseMetadata"} == MAPPING_KEYS, got

    updated = lam.update_event_source_mapping(
        UUID=uuid, Enabled=False, BatchSize=100, MaximumBatchingWindowInSeconds=2,
        FunctionResponseTypes=["ReportBatchItemFailures"], ScalingConfig={"MaximumConcurrency": 5},
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["a"]}})}]})
    assert (updated["ResponseMetadata"]["HTTPStatusCode"], updated["State"]) == (202, "Disabling")
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Disabled"
    assert (got["BatchSize"], got["MaximumBatchingWindowInSeconds"], got["ScalingConfig"]) == (100, 2, {"MaximumConcurrency": 5})
    assert got["FilterCriteria"] == {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["a"]}})}]}
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    assert lam.update_event_source_mapping(UUID=uuid, BatchSize=20)["State"] == "Updating"

    listed = [m["UUID"] for m in lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]]
    assert listed == [uuid]
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]] == [uuid]

    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert (deleted["ResponseMetadata"]["HTTPStatusCode"], deleted["State"]) == (202, "Deleting")
    expect_error(lambda: lam.get_event_source_mapping(UUID=uuid), "ResourceNotFoundException", 404,
                 "The resource you requested does not exist.")


def test_mapping_errors_as_aws_records_them(lam, sqs, functions, out_dir):
    name = worker(functions, out_dir)
    _, arn = queue(sqs)
    _, fifo = queue(sqs, name=unique("f") + ".fifo", FifoQueue="true")
    missing = "00000000-0000-0000-0000-000000000000"
    for call in (lam.get_event_source_mapping, lam.delete_event_source_mapping):
        expect_error(lambda: call(UUID=missing), "ResourceNotFoundException", 404, "The resource you requested does not exist.")
    expect_error(lambda: lam.update_event_source_mapping(UUID=missing, Enabled=False), "ResourceNotFoundException", 404)
    expect_error(lambda: lam.create_event_source_mapping(FunctionName=name), "InvalidParameterValueException", 400,
                 "Unrecognized event source.")
    expect_error(lambda: lam.create_event_source_mapping(FunctionName=unique("missing"), EventSourceArn=arn),
                 "InvalidParameterValueException", 400, "Function does not exist")
    expect_error(lambda: lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=arn, DestinationConfig={"OnFailure": {"Destination": arn}}),
        "InvalidParameterValueException", 400, "Unsupported DestinationConfig parameter for given event source mapping type.")
    expect_error(lambda: lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, BatchSize=11),
                 "InvalidParameterValueException", 400,
                 "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
    expect_error(lambda: lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, BatchSize=10001,
                                                         MaximumBatchingWindowInSeconds=1), "ValidationException", 400)
    expect_error(lambda: lam.create_event_source_mapping(FunctionName=name, EventSourceArn=fifo, BatchSize=11,
                                                         MaximumBatchingWindowInSeconds=1), "InvalidParameterValueException", 400)
    expect_error(lambda: lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=arn, FilterCriteria={"Filters": [{"Pattern": "{\"body\": 5}"}]}),
        "InvalidParameterValueException", 400, "Invalid filter pattern definition.")
    expect_error(lambda: lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique('nope')}"),
        "InvalidParameterValueException", 400)
    first = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, Enabled=False)["UUID"]
    try:
        expect_error(lambda: lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn),
                     "ResourceConflictException", 409)
    finally:
        lam.delete_event_source_mapping(UUID=first)


# ------------------------------------------------------------------------------------------
# The pollers
# ------------------------------------------------------------------------------------------


def test_a_thousand_messages_drain_in_batches(lam, sqs, functions, out_dir):
    name = worker(functions, out_dir, KEEP_EVENT="1")
    url, arn = queue(sqs, VisibilityTimeout=30)
    bodies = [json.dumps({"n": i}) for i in range(1000)]
    send_all(sqs, url, bodies)
    uuid = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, BatchSize=10)["UUID"]
    try:
        poll(lambda: depth(sqs, url) == 0 and len(seen(out_dir)[0]) >= 1000, timeout=180, what="the queue to drain")
    finally:
        lam.delete_event_source_mapping(UUID=uuid)
    records, invocations = seen(out_dir)
    assert sorted({body for _, body in records}) == sorted(bodies)  # every message processed at least once
    assert len(records) == 1000, "a processed message was delivered again although its batch succeeded"
    assert invocations >= 100  # batches of at most 10
    assert lam.get_function(FunctionName=name)  # the function is still there
    # One event, field by field as Lambda sends SQS records.
    event_file = next(f for f in os.listdir(out_dir) if f.endswith(".event"))
    with open(os.path.join(out_dir, event_file)) as f:
        record = json.load(f)["Records"][0]
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                           "eventSource", "eventSourceARN", "awsRegion"}
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", arn, REGION)
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])


def test_partial_failures_are_retried_alone_then_dead_lettered(lam, sqs, functions, out_dir):
    name = worker(functions, out_dir)
    dlq_url, dlq_arn = queue(sqs)
    url, arn = queue(sqs, VisibilityTimeout=1,
                     RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    good = [f"good-{i}" for i in range(20)]
    bad = [f"bad-{i}" for i in range(3)]
    send_all(sqs, url, good + bad)
    uuid = lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=arn, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])["UUID"]
    try:
        poll(lambda: depth(sqs, url) == 0 and depth(sqs, dlq_url) == len(bad), timeout=60,
             what="good messages deleted and bad ones dead-lettered")
    finally:
        lam.delete_event_source_mapping(UUID=uuid)
    records, _ = seen(out_dir)
    bodies = [body for _, body in records]
    assert all(bodies.count(body) == 1 for body in good), "a message of a partly failed batch ran again"
    assert all(bodies.count(body) == 2 for body in bad), "a failed message is received maxReceiveCount times"
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in dead) == bad


def test_filters_drop_what_they_do_not_match(lam, sqs, functions, out_dir):
    name = worker(functions, out_dir)
    url, arn = queue(sqs)
    keep = [json.dumps({"kind": "keep", "n": i}) for i in range(5)]
    drop = [json.dumps({"kind": "drop", "n": i}) for i in range(5)] + ["plain text"]
    send_all(sqs, url, keep + drop)
    uuid = lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=arn,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]})["UUID"]
    try:
        # Lambda deletes the messages no filter matches: the queue empties.
        poll(lambda: depth(sqs, url) == 0 and len(seen(out_dir)[0]) >= len(keep), timeout=60, what="the queue to drain")
    finally:
        lam.delete_event_source_mapping(UUID=uuid)
    assert sorted(body for _, body in seen(out_dir)[0]) == sorted(keep)


def test_a_disabled_mapping_stops_and_an_enabled_one_resumes(lam, sqs, functions, out_dir):
    name = worker(functions, out_dir)
    url, arn = queue(sqs)
    uuid = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn)["UUID"]
    try:
        send_all(sqs, url, ["first"])
        poll(lambda: len(seen(out_dir)[0]) == 1, timeout=30, what="the first message")
        lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        poll(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled", timeout=5, what="Disabled")
        send_all(sqs, url, ["second"])
        # Bounded check that nothing happens: the poller stops within a second, so after three the message waits.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert len(seen(out_dir)[0]) == 1, "a disabled mapping invoked its function"
            time.sleep(0.2)
        assert depth(sqs, url) == 1
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        poll(lambda: len(seen(out_dir)[0]) == 2 and depth(sqs, url) == 0, timeout=30, what="the mapping to resume")
    finally:
        lam.delete_event_source_mapping(UUID=uuid)


# ------------------------------------------------------------------------------------------
# kill -9 mid-drain
# ------------------------------------------------------------------------------------------

SLOW_WORKER = WORKER_SOURCE.replace("    out = os.environ", "    import time; time.sleep(0.05)\n    out = os.environ")


def test_kill_9_mid_drain_loses_no_message(tmp_path):
    out_dir = str(tmp_path / "out")
    os.makedirs(out_dir, mode=0o777)
    data_dir = str(tmp_path / "data")
    server = RestartableServer(data_dir).start()
    try:
        lam = boto3.client("lambda", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id="test",
                           aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))
        sqs = sqs_client(server.endpoint)
        lam.create_function(FunctionName="slow", Runtime=PY, Role=ROLE, Handler="app.handler", Timeout=30,
                            Code={"ZipFile": py_zip(SLOW_WORKER)}, Environment={"Variables": {"OUT_DIR": out_dir}})
        url, arn = queue(sqs, name="work", VisibilityTimeout=2)
        bodies = [f"m-{i}" for i in range(300)]
        send_all(sqs, url, bodies)
        lam.create_event_source_mapping(FunctionName="slow", EventSourceArn=arn, BatchSize=5,
                                        ScalingConfig={"MaximumConcurrency": 2})
        poll(lambda: len(seen(out_dir)[0]) >= 50, timeout=60, what="the drain to be under way")
        server.kill9()
        server = RestartableServer(data_dir).start()  # the mapping and the queue come back with the server
        sqs = sqs_client(server.endpoint)
        poll(lambda: depth(sqs, url) == 0, timeout=120, what="the queue to drain after the restart")
        processed = {body for _, body in seen(out_dir)[0]}
        assert processed == set(bodies), f"lost: {sorted(set(bodies) - processed)[:10]}"
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------
# The example
# ------------------------------------------------------------------------------------------


def test_the_queue_worker_example_runs_as_documented(endpoint, sqs):
    example = os.path.join(helpers.REPO, "examples", "queue-worker")
    env = {**os.environ, "NIMBUS_ENDPOINT": endpoint, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION,
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    deployed = subprocess.run([os.path.join(example, "deploy.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    produced = subprocess.run([sys.executable, os.path.join(example, "produce.py"), "30"], env=env,
                              capture_output=True, text=True, timeout=60)
    assert produced.returncode == 0, produced.stdout + produced.stderr
    url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    # Orders 9, 19 and 29 are invalid: after three receives (5 s visibility) they are dead letters; the rest is gone.
    poll(lambda: depth(sqs, url) == 0 and depth(sqs, dlq) == 3, timeout=90, what="valid orders processed, invalid ones dead-lettered")
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(json.loads(m["Body"])["id"] for m in dead) == [9, 19, 29]

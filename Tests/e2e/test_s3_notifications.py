"""S3 bucket notifications (issue #14): Put/GetBucketNotificationConfiguration as S3 answers them, S3's validation of
destinations, the exact record a function receives, filters and event types, queue destinations (with S3's
s3:TestEvent) and S3 -> SQS -> Lambda, a function using S3 from its sandbox, exact counts under concurrency, and a
kill -9 in the middle of a PUT burst that loses no event of an acknowledged PUT.

The functions record every invocation as a file in a directory the test reads (the session's server runs functions
in the process tier), one file per invocation, so duplicates and extras are counted, never hidden.
"""

import calendar
import json
import os
import re
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import helpers
from helpers import ACCOUNT, REGION, poll, unique
from s3_helpers import (
    MiB, Buckets, async_idle, bucket_name, empty_bucket, etag_of, expect_s3_error, function_arn, md5_hex,
    multipart_etag, s3_client,
)
from servers import RestartableServer

pytestmark = pytest.mark.usefixtures("server_ok")

UNABLE_TO_VALIDATE = "Unable to validate the following destination configurations"
EVENT_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SEQUENCER_RE = re.compile(r"^[0-9A-F]+$")

# Records each invocation's event in $OUT_DIR (one file per invocation, written atomically); with $COPY_TO it also
# reads each created object with boto3 (the credentials and endpoint Nimbus gives the sandbox) and writes it upper-cased
# to that bucket under the same key, decoded from the event as AWS's documentation says (unquote_plus).
RECORDER_SOURCE = r'''
import json, os, time, urllib.parse, uuid

def handler(event, context):
    out = os.environ["OUT_DIR"]
    path = os.path.join(out, f"{context.aws_request_id}.{uuid.uuid4().hex}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(event, f)
    os.rename(path + ".tmp", path)
    target = os.environ.get("COPY_TO")
    if target:
        import boto3
        s3 = boto3.client("s3")
        for record in event.get("Records", []):
            if not record["eventName"].startswith("ObjectCreated:"):
                continue
            key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
            body = s3.get_object(Bucket=record["s3"]["bucket"]["name"], Key=key)["Body"].read()
            s3.put_object(Bucket=target, Key=key, Body=body.upper(),
                          Metadata={"source-etag": record["s3"]["object"]["eTag"]})
    delay = float(os.environ.get("DELAY", "0"))
    if delay:
        time.sleep(delay)
    return {"ok": True}
'''


@pytest.fixture(scope="module")
def s3(endpoint):
    return s3_client(endpoint, max_pool_connections=32)


@pytest.fixture(scope="module")
def sqs(endpoint):
    return boto3.client(
        "sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60, connect_timeout=10))


@pytest.fixture
def buckets(s3):
    registry = Buckets(s3)
    yield registry
    registry.cleanup()


@pytest.fixture
def out_dir(tmp_path):
    path = tmp_path / "invocations"
    path.mkdir()
    os.chmod(path, 0o777)
    return str(path)


def recorder(functions, out_dir, **env):
    return functions.python(RECORDER_SOURCE, Timeout=30,
                            Environment={"Variables": {"OUT_DIR": out_dir, **{k: str(v) for k, v in env.items()}}})


def invocations(out_dir):
    """Every event the recorder received, one per invocation."""
    events = []
    for name in sorted(os.listdir(out_dir)):
        if name.endswith(".json"):
            with open(os.path.join(out_dir, name)) as f:
                events.append(json.load(f))
    return events


def s3_records(out_dir):
    return [r for event in invocations(out_dir) for r in event.get("Records", []) if r.get("eventSource") == "aws:s3"]


def allow_s3(lam, function, bucket, account=ACCOUNT):
    """The permission S3 needs to invoke the function (what `aws lambda add-permission` gives it on AWS)."""
    lam.add_permission(FunctionName=function, StatementId=f"s3-{bucket}", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount=account)


def lambda_config(function, events, config_id=None, prefix=None, suffix=None):
    config = {"LambdaFunctionArn": function_arn(function), "Events": list(events)}
    if config_id:
        config["Id"] = config_id
    rules = []
    if prefix is not None:
        rules.append({"Name": "prefix", "Value": prefix})
    if suffix is not None:
        rules.append({"Name": "suffix", "Value": suffix})
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def notify(s3, bucket, *lambda_configs, queues=()):
    configuration = {}
    if lambda_configs:
        configuration["LambdaFunctionConfigurations"] = list(lambda_configs)
    if queues:
        configuration["QueueConfigurations"] = list(queues)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)


def settle(endpoint, function, timeout=30):
    poll(lambda: async_idle(endpoint, function), timeout=timeout, interval=0.1,
         what=f"{function}'s asynchronous queue to drain")


def new_queue(sqs, bucket):
    """A queue whose policy lets S3 send this bucket's notifications (as AWS requires)."""
    name = unique("s3q")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
                                       "StringEquals": {"aws:SourceAccount": ACCOUNT}}}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def receive_bodies(sqs, url, want, timeout=20.0):
    """Receives (and deletes) messages until `want(bodies)` holds; bounded."""
    bodies = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if want(bodies):
            return bodies
    raise AssertionError(f"timed out after {timeout}s; received {bodies}")


def sequencer_key(value):
    """S3's documented comparison: right-pad the shorter sequencer with zeros, then compare as strings."""
    return value.ljust(32, "0")


# ------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------


def test_notification_configuration_round_trip(s3, lam, sqs, functions, buckets, out_dir):
    bucket = buckets("cfg")
    fn = recorder(functions, out_dir)
    allow_s3(lam, fn, bucket)
    _, queue_arn = new_queue(sqs, bucket)
    assert {k: v for k, v in s3.get_bucket_notification_configuration(Bucket=bucket).items()
            if k != "ResponseMetadata"} == {}

    notify(s3, bucket,
           lambda_config(fn, ["s3:ObjectCreated:*"], "images", prefix="photos/", suffix=".jpg"),
           lambda_config(fn, ["s3:ObjectRemoved:Delete"], "removals"),
           # S3 refuses configurations that overlap (same event type, overlapping prefixes and suffixes), across
           # destinations too: the queue's prefix keeps it apart from "images".
           queues=[{"Id": "to-queue", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:Copy"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "queued/"}]}}}])
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    lambdas = {c["Id"]: c for c in got["LambdaFunctionConfigurations"]}
    assert set(lambdas) == {"images", "removals"}
    assert lambdas["images"]["LambdaFunctionArn"] == function_arn(fn)
    assert lambdas["images"]["Events"] == ["s3:ObjectCreated:*"]
    # S3 answers the filter rule names capitalised, whatever case they were put in.
    assert lambdas["images"]["Filter"] == {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "photos/"},
                                                                   {"Name": "Suffix", "Value": ".jpg"}]}}
    assert "Filter" not in lambdas["removals"]
    assert got["QueueConfigurations"] == [{
        "Id": "to-queue", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:Copy"],
        "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "queued/"}]}}}]

    # A configuration without an Id gets one.
    notify(s3, bucket, lambda_config(fn, ["s3:ObjectCreated:Put"]))
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert len(got) == 1 and got[0]["Id"], got
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)

    # An empty configuration removes every destination.
    notify(s3, bucket)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert "LambdaFunctionConfigurations" not in got and "QueueConfigurations" not in got
    expect_s3_error(lambda: s3.get_bucket_notification_configuration(Bucket=bucket_name("missing")),
                    "NoSuchBucket", 404)


def test_destinations_are_validated_as_s3_does(s3, lam, sqs, functions, buckets, out_dir):
    bucket = buckets("val")
    fn = recorder(functions, out_dir)

    def refused(*configs, queues=(), message=UNABLE_TO_VALIDATE):
        expect_s3_error(lambda: notify(s3, bucket, *configs, queues=queues), "InvalidArgument", 400, message)

    refused(lambda_config(unique("missing"), ["s3:ObjectCreated:*"]))  # no such function
    refused(lambda_config(fn, ["s3:ObjectCreated:*"]))  # no permission for s3.amazonaws.com
    lam.add_permission(FunctionName=fn, StatementId="other-bucket", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::some-other-bucket")
    refused(lambda_config(fn, ["s3:ObjectCreated:*"]))  # a permission for another bucket only
    refused(queues=[{"QueueArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique('missing')}",
                     "Events": ["s3:ObjectCreated:*"]}])

    allow_s3(lam, fn, bucket)
    refused(lambda_config(fn, ["s3:ObjectCreated:Nope"]), message=None)  # an event S3 does not have
    refused(lambda_config(fn, ["s3:ObjectCreated:*"], prefix="a", suffix=None) | {
        "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}}, message=None)
    # Nothing of the refused configurations was kept.
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert "LambdaFunctionConfigurations" not in got and "QueueConfigurations" not in got, got

    notify(s3, bucket, lambda_config(fn, ["s3:ObjectCreated:*"], "ok"))
    assert [c["Id"] for c in s3.get_bucket_notification_configuration(Bucket=bucket)[
        "LambdaFunctionConfigurations"]] == ["ok"]


# ------------------------------------------------------------------------------------------
# What a function receives
# ------------------------------------------------------------------------------------------


def test_record_shape_field_by_field(s3, lam, functions, buckets, out_dir, endpoint):
    bucket = buckets("shape")
    fn = recorder(functions, out_dir)
    allow_s3(lam, fn, bucket)
    notify(s3, bucket, lambda_config(fn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], "shape-config"))

    key = "in/my photo+1 é.txt"
    body = b"hello, notifications"
    put = s3.put_object(Bucket=bucket, Key=key, Body=body)
    before = time.time()
    records = poll(lambda: s3_records(out_dir) or None, timeout=30, what="the record of the PUT")
    events = invocations(out_dir)
    assert len(events) == 1 and list(events[0]) == ["Records"] and len(events[0]["Records"]) == 1, events
    record = records[0]

    assert set(record) == {"eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
                           "requestParameters", "responseElements", "s3"}, sorted(record)
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == REGION
    assert EVENT_TIME_RE.match(record["eventTime"]), record["eventTime"]
    event_time = calendar.timegm(time.strptime(record["eventTime"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert abs(event_time - before) < 120, (record["eventTime"], before)
    assert record["eventName"] == "ObjectCreated:Put"
    assert set(record["userIdentity"]) == {"principalId"} and record["userIdentity"]["principalId"]
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    # The same ids S3 answered the PUT with.
    headers = put["ResponseMetadata"]["HTTPHeaders"]
    assert record["responseElements"] == {"x-amz-request-id": headers["x-amz-request-id"],
                                          "x-amz-id-2": headers["x-amz-id-2"]}

    s3part = record["s3"]
    assert set(s3part) == {"s3SchemaVersion", "configurationId", "bucket", "object"}, sorted(s3part)
    assert s3part["s3SchemaVersion"] == "1.0"
    assert s3part["configurationId"] == "shape-config"
    assert set(s3part["bucket"]) == {"name", "ownerIdentity", "arn"}
    assert s3part["bucket"]["name"] == bucket
    assert s3part["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert set(s3part["bucket"]["ownerIdentity"]) == {"principalId"} and s3part["bucket"]["ownerIdentity"][
        "principalId"]
    obj = s3part["object"]
    assert set(obj) == {"key", "size", "eTag", "sequencer"}, sorted(obj)  # no versionId: the bucket is unversioned
    # The key is form-URL-encoded ("red flower.jpg" -> "red+flower.jpg"), "/" kept.
    assert obj["key"] == "in/my+photo%2B1+%C3%A9.txt"
    assert urllib.parse.unquote_plus(obj["key"]) == key
    assert obj["size"] == len(body) and isinstance(obj["size"], int)
    assert obj["eTag"] == md5_hex(body)  # without quotes
    assert SEQUENCER_RE.match(obj["sequencer"]), obj["sequencer"]

    # A later PUT and a DELETE of the same key: greater sequencers; a removal has only key and sequencer.
    s3.put_object(Bucket=bucket, Key=key, Body=b"second")
    s3.delete_object(Bucket=bucket, Key=key)
    records = poll(lambda: (lambda r: r if len(r) >= 3 else None)(s3_records(out_dir)), timeout=30,
                   what="three records")
    by_name = {}
    for r in records:
        by_name.setdefault(r["eventName"], []).append(r)
    removed = by_name["ObjectRemoved:Delete"][0]
    assert set(removed["s3"]["object"]) == {"key", "sequencer"}, removed["s3"]["object"]
    assert removed["s3"]["object"]["key"] == "in/my+photo%2B1+%C3%A9.txt"
    puts = sorted(by_name["ObjectCreated:Put"], key=lambda r: sequencer_key(r["s3"]["object"]["sequencer"]))
    assert [r["s3"]["object"]["size"] for r in puts] == [len(body), len(b"second")], "sequencers order the PUTs"
    assert sequencer_key(removed["s3"]["object"]["sequencer"]) > sequencer_key(puts[-1]["s3"]["object"]["sequencer"])


def test_event_types_and_filters(s3, lam, functions, buckets, out_dir, endpoint):
    bucket = buckets("filters")
    fn = recorder(functions, out_dir)
    allow_s3(lam, fn, bucket)
    notify(s3, bucket,
           lambda_config(fn, ["s3:ObjectCreated:Put"], "put-jpg", prefix="up/", suffix=".jpg"),
           lambda_config(fn, ["s3:ObjectCreated:Copy"], "copies", prefix="copies/"),
           lambda_config(fn, ["s3:ObjectCreated:CompleteMultipartUpload"], "multipart", prefix="mp/"),
           lambda_config(fn, ["s3:ObjectRemoved:*"], "removed"))

    s3.put_object(Bucket=bucket, Key="up/a.jpg", Body=b"jpg")            # put-jpg
    s3.put_object(Bucket=bucket, Key="up/a.png", Body=b"png")            # no: suffix
    s3.put_object(Bucket=bucket, Key="down/a.jpg", Body=b"jpg")          # no: prefix
    s3.put_object(Bucket=bucket, Key="mp/small", Body=b"x")              # no: a PUT, not a multipart upload
    s3.copy_object(Bucket=bucket, Key="copies/x", CopySource={"Bucket": bucket, "Key": "up/a.jpg"})   # copies
    s3.copy_object(Bucket=bucket, Key="up/c.jpg", CopySource={"Bucket": bucket, "Key": "up/a.jpg"})   # no: a copy
    parts = [os.urandom(5 * MiB), b"tail"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp/big")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="mp/big", UploadId=upload_id, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp/big", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})    # multipart
    s3.delete_object(Bucket=bucket, Key="up/a.png")                      # removed
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "down/a.jpg"}]})    # removed
    s3.put_object(Bucket=bucket, Key="up/zz-last.jpg", Body=b"last")     # put-jpg

    expected = sorted([
        ("put-jpg", "ObjectCreated:Put", "up/a.jpg"),
        ("copies", "ObjectCreated:Copy", "copies/x"),
        ("multipart", "ObjectCreated:CompleteMultipartUpload", "mp/big"),
        ("removed", "ObjectRemoved:Delete", "up/a.png"),
        ("removed", "ObjectRemoved:Delete", "down/a.jpg"),
        ("put-jpg", "ObjectCreated:Put", "up/zz-last.jpg"),
    ])

    def seen():
        return sorted((r["s3"]["configurationId"], r["eventName"], urllib.parse.unquote_plus(r["s3"]["object"]["key"]))
                      for r in s3_records(out_dir))

    poll(lambda: set(expected) <= set(seen()), timeout=40, what=f"the events {expected}")
    settle(endpoint, fn)
    assert seen() == expected, "exactly the matching events, each once"

    by_key = {urllib.parse.unquote_plus(r["s3"]["object"]["key"]): r for r in s3_records(out_dir)}
    assert by_key["mp/big"]["s3"]["object"]["eTag"] == multipart_etag(parts).strip('"')
    assert by_key["mp/big"]["s3"]["object"]["size"] == sum(map(len, parts))
    assert by_key["copies/x"]["s3"]["object"]["eTag"] == md5_hex(b"jpg")
    assert by_key["copies/x"]["s3"]["object"]["size"] == 3


def test_a_function_uses_s3_from_its_sandbox(s3, lam, functions, buckets, out_dir):
    source, target = buckets("src"), buckets("dst")
    fn = recorder(functions, out_dir, COPY_TO=target)
    allow_s3(lam, fn, source)
    notify(s3, source, lambda_config(fn, ["s3:ObjectCreated:*"], "copy"))
    key = "docs/hello world+ü.txt"
    s3.put_object(Bucket=source, Key=key, Body=b"made by a function")

    def copied():
        try:
            return s3.get_object(Bucket=target, Key=key)
        except ClientError as e:
            if e.response["Error"]["Code"] == "NoSuchKey":
                return None
            raise

    got = poll(copied, timeout=40, interval=0.2, what="the function's copy in the target bucket")
    assert got["Body"].read() == b"MADE BY A FUNCTION"
    assert got["Metadata"] == {"source-etag": md5_hex(b"made by a function")}


# ------------------------------------------------------------------------------------------
# Queues: S3 -> SQS, and S3 -> SQS -> Lambda
# ------------------------------------------------------------------------------------------


def test_queue_configuration_delivers_the_test_event_and_records(s3, sqs, buckets):
    bucket = buckets("queue")
    url, arn = new_queue(sqs, bucket)
    try:
        notify(s3, bucket, queues=[{"Id": "q", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "q/"}]}}}])
        test_event = receive_bodies(sqs, url, lambda b: any(x.get("Event") == "s3:TestEvent" for x in b))[0]
        assert set(test_event) == {"Service", "Event", "Time", "Bucket", "RequestId", "HostId"}, test_event
        assert (test_event["Service"], test_event["Event"], test_event["Bucket"]) == \
            ("Amazon S3", "s3:TestEvent", bucket)
        assert EVENT_TIME_RE.match(test_event["Time"]), test_event

        s3.put_object(Bucket=bucket, Key="skipped", Body=b"no")
        s3.put_object(Bucket=bucket, Key="q/object.txt", Body=b"to the queue")
        bodies = receive_bodies(sqs, url, lambda b: any("Records" in x for x in b))
        records = [r for body in bodies for r in body.get("Records", [])]
        assert len(records) == 1, records
        record = records[0]
        assert (record["eventSource"], record["eventName"], record["s3"]["configurationId"]) == \
            ("aws:s3", "ObjectCreated:Put", "q")
        assert record["s3"]["bucket"]["name"] == bucket
        assert record["s3"]["object"]["key"] == "q/object.txt"
        assert record["s3"]["object"]["eTag"] == md5_hex(b"to the queue")
        assert record["s3"]["object"]["size"] == len(b"to the queue")
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_s3_to_sqs_to_lambda(s3, sqs, lam, functions, buckets, out_dir):
    bucket = buckets("fanout")
    url, arn = new_queue(sqs, bucket)
    fn = recorder(functions, out_dir)
    mapping = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=10)["UUID"]
    try:
        notify(s3, bucket, queues=[{"Id": "fan", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}])
        s3.put_object(Bucket=bucket, Key="through the queue.txt", Body=b"fan-out")

        def delivered():
            for event in invocations(out_dir):
                for message in event.get("Records", []):
                    if message.get("eventSource") != "aws:sqs":
                        continue
                    for record in json.loads(message["body"]).get("Records", []):
                        if record["s3"]["object"]["key"] == "through+the+queue.txt":
                            return message, record
            return None

        message, record = poll(delivered, timeout=40, interval=0.2, what="the S3 record to reach the function")
        assert message["eventSourceARN"] == arn
        assert (record["eventName"], record["s3"]["bucket"]["name"]) == ("ObjectCreated:Put", bucket)
    finally:
        lam.delete_event_source_mapping(UUID=mapping)
        sqs.delete_queue(QueueUrl=url)


# ------------------------------------------------------------------------------------------
# Exact counts, and durability across kill -9
# ------------------------------------------------------------------------------------------


def test_500_puts_at_concurrency_16_give_exactly_500_invocations(s3, lam, functions, buckets, out_dir, endpoint):
    bucket = buckets("burst")
    fn = recorder(functions, out_dir)
    allow_s3(lam, fn, bucket)
    notify(s3, bucket, lambda_config(fn, ["s3:ObjectCreated:*"], "count"))
    keys = [f"burst/{i:04d}.txt" for i in range(500)]

    def put(key):
        return s3.put_object(Bucket=bucket, Key=key, Body=key.encode())["ETag"] == etag_of(key.encode())

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        assert all(pool.map(put, keys))
    put_seconds = time.monotonic() - started

    def files():
        return len([n for n in os.listdir(out_dir) if n.endswith(".json")])

    poll(lambda: files() >= 500, timeout=60, interval=0.2, what="500 invocations")
    settle(endpoint, fn)
    events = invocations(out_dir)
    delivered = [urllib.parse.unquote_plus(r["s3"]["object"]["key"]) for e in events for r in e["Records"]]
    print(f"\n500 PUTs at concurrency 16 in {put_seconds:.1f}s; {len(events)} invocations "
          f"{time.monotonic() - started:.1f}s after the first PUT")
    assert len(events) == 500, f"{len(events)} invocations for 500 PUTs"
    assert sorted(delivered) == keys, "every PUT's event exactly once"


def test_kill_9_mid_put_burst_loses_no_event_of_an_acknowledged_put(tmp_path):
    data_dir = str(tmp_path / "data")
    out_dir = str(tmp_path / "invocations")
    os.makedirs(out_dir)
    os.chmod(out_dir, 0o777)
    server = RestartableServer(
        data_dir, "--async-retry-base", "0.2", "--async-throttle-base", "0.05", "--async-throttle-max", "0.2")
    server.start()
    try:
        lam = boto3.client("lambda", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id="test",
                           aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))
        s3 = s3_client(server.endpoint, max_pool_connections=32)
        fn = unique("s3crash")
        lam.create_function(FunctionName=fn, Runtime=helpers.PY, Role=helpers.ROLE, Handler="app.handler",
                            Timeout=30, Code={"ZipFile": helpers.py_zip(RECORDER_SOURCE)},
                            Environment={"Variables": {"OUT_DIR": out_dir, "DELAY": "0.2"}})
        # At most 10 invocations a second, so that events wait in the queue when the server is killed.
        lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=2)
        bucket = bucket_name("crash")
        s3.create_bucket(Bucket=bucket)
        allow_s3(lam, fn, bucket)
        notify(s3, bucket, lambda_config(fn, ["s3:ObjectCreated:*"], "crash"))

        acknowledged = []
        lock = threading.Lock()
        stop = threading.Event()

        def sender(worker):
            own = s3_client(server.endpoint)
            for i in range(10_000):
                if stop.is_set():
                    return
                key = f"k/{worker:02d}-{i:05d}"
                try:
                    own.put_object(Bucket=bucket, Key=key, Body=key.encode())
                except Exception:  # the server is gone: an unacknowledged PUT may or may not have happened
                    return
                with lock:
                    acknowledged.append(key)

        with ThreadPoolExecutor(max_workers=16) as pool:
            for worker in range(16):
                pool.submit(sender, worker)
            def backlog():
                invoked = len([n for n in os.listdir(out_dir) if n.endswith(".json")])
                return len(acknowledged) >= 200 and len(acknowledged) - invoked >= 20

            poll(backlog, timeout=40, interval=0.02, what="200 acknowledged PUTs, 20 of them not yet delivered")
            server.kill9()
            stop.set()
        want = set(acknowledged)
        delivered_before = {urllib.parse.unquote_plus(r["s3"]["object"]["key"]) for r in s3_records(out_dir)}

        server.start()
        s3 = s3_client(server.endpoint)
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            listed |= {o["Key"] for o in page.get("Contents", [])}
        assert want <= listed, f"{len(want - listed)} acknowledged PUTs are not visible after the restart"

        def delivered():
            got = {urllib.parse.unquote_plus(r["s3"]["object"]["key"]) for r in s3_records(out_dir)}
            return got if want <= got else None

        try:
            got = poll(delivered, timeout=60, interval=0.25, what="an event for every acknowledged PUT")
        except AssertionError:
            got = {urllib.parse.unquote_plus(r["s3"]["object"]["key"]) for r in s3_records(out_dir)}
            raise AssertionError(f"{len(want - got)} of {len(want)} acknowledged PUTs have no event, e.g. "
                                 f"{sorted(want - got)[:5]}") from None
        print(f"\nS3 kill -9 test: {len(want)} PUTs acknowledged, {len(delivered_before & want)} of their events "
              f"delivered before the kill, all {len(want & got)} after the restart ({len(listed)} objects visible)")
        assert len(delivered_before & want) < len(want), "every event ran before the kill: nothing was tested"
        empty_bucket(s3, bucket)
    finally:
        server.stop()

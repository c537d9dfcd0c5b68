"""Amazon SQS end to end: unmodified boto3 (json 1.0 protocol) and the AWS CLI v2 (query protocol) against the
session's server; a server of its own for the kill -9 test.

What is asserted is what SQS does: error codes as boto3 reports them (the query code from `x-amzn-query-error`,
the json type as `QueryErrorCode`), MD5s computed here independently from AWS's documented algorithm, FIFO order and
deduplication, redrive by maxReceiveCount and back with a message move task, visibility and long polling. Waits are
bounded polls; the only sleeps are inside visibility and delay tests, with 1-2 second timeouts.
"""

import base64
import hashlib
import json
import os
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import helpers
from servers import RestartableServer
from helpers import ACCOUNT, REGION, poll, unique

pytestmark = pytest.mark.usefixtures("server_ok")


def _client(endpoint, **config):
    return boto3.client(
        "sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60, connect_timeout=10,
                      **config))


@pytest.fixture(scope="module")
def sqs(endpoint):
    return _client(endpoint)


@pytest.fixture(scope="module")
def sqs_unvalidated(endpoint):
    """A client without botocore's parameter validation, to send what only the server must refuse."""
    return _client(endpoint, parameter_validation=False)


@pytest.fixture
def queues(sqs):
    """Creates queues with unique names; deletes them when the test ends."""
    created = []

    def make(prefix="q", fifo=False, **attributes):
        name = unique(prefix) + (".fifo" if fifo else "")
        attrs = {k: str(v) for k, v in attributes.items()}
        if fifo:
            attrs["FifoQueue"] = "true"
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        created.append(url)
        return url

    yield make
    for url in created:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def expect_error(call, code, status=400, message=None, query_code=None):
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    got = (error.get("Code"), info.value.response["ResponseMetadata"]["HTTPStatusCode"])
    assert got == (code, status), f"expected {code}/{status}, got {got}: {error}"
    if message is not None:
        assert error.get("Message") == message, error
    if query_code is not None:
        assert error.get("QueryErrorCode") == query_code, error
    return error


def receive_all(sqs, url, expected, timeout=10.0, **kwargs):
    """Receives until `expected` messages arrived (bounded)."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs).get("Messages", [])
    return got


# ------------------------------------------------------------------------------------------
# MD5s, computed here from AWS's documented algorithm
# ------------------------------------------------------------------------------------------


def md5_of_attributes(attributes):
    """SQS's MD5OfMessageAttributes: per attribute by name, length-prefixed name, type, a transport byte, value."""
    data = b""
    for name in sorted(attributes):
        value = attributes[name]
        data += struct.pack(">I", len(name.encode())) + name.encode()
        kind = value["DataType"]
        data += struct.pack(">I", len(kind.encode())) + kind.encode()
        if "BinaryValue" in value:
            blob = value["BinaryValue"]
            data += b"\x02" + struct.pack(">I", len(blob)) + blob
        else:
            text = value["StringValue"].encode()
            data += b"\x01" + struct.pack(">I", len(text)) + text
    return hashlib.md5(data).hexdigest()


ATTRIBUTES = {
    "name": {"DataType": "String", "StringValue": "café ☕"},
    "count": {"DataType": "Number", "StringValue": "-12.5e3"},
    "price": {"DataType": "Number.float", "StringValue": "4563442423554324324264524243.32543234"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    "image": {"DataType": "Binary.png", "BinaryValue": b"\x89PNG"},
    "note": {"DataType": "String.custom", "StringValue": "x"},
}


def test_md5s_match_what_sqs_computes(sqs, queues):
    url = queues()
    body = "héllo, wörld — 𝄞"
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    sent = sqs.send_message(
        QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTES,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}})
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}})
    # A digest AWS itself answered for this attribute (recorded from real SQS).
    assert md5_of_attributes({"Foo": {"DataType": "String", "StringValue": "Bar"}}) == "ae7155c6026991b6d54b11589678bf9c"

    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"])["Messages"][0]
    assert message["Body"] == body and message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MessageAttributes"] == ATTRIBUTES
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["Attributes"]["AWSTraceHeader"] == trace
    # The digest covers the attributes returned: a filter changes it, none omits it.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    some = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["name", "bl.*", "nothing"])["Messages"][0]
    assert set(some["MessageAttributes"]) == {"name"}
    assert some["MD5OfMessageAttributes"] == md5_of_attributes({"name": ATTRIBUTES["name"]})
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=some["ReceiptHandle"], VisibilityTimeout=0)
    bare = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "MessageAttributes" not in bare and "MD5OfMessageAttributes" not in bare and "Attributes" not in bare


# ------------------------------------------------------------------------------------------
# Queues
# ------------------------------------------------------------------------------------------


def test_queue_lifecycle(sqs, endpoint):
    name = unique("life")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"}, tags={"team": "a"})["QueueUrl"]
    assert url == f"{endpoint}/{ACCOUNT}/{name}"
    # The same name and attributes answer the same URL; a different value is QueueNameExists.
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    expect_error(lambda: sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"}),
                 "QueueAlreadyExists", query_code="QueueNameExists",
                 message="A queue already exists with the same name and a different value for attribute VisibilityTimeout")
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    assert attributes["VisibilityTimeout"] == "45"
    assert attributes["MaximumMessageSize"] == "262144"
    assert attributes["MessageRetentionPeriod"] == "345600"
    assert attributes["DelaySeconds"] == "0" and attributes["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert abs(int(attributes["CreatedTimestamp"]) - time.time()) < 120
    assert "FifoQueue" not in attributes
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes") is None
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"] == {"DelaySeconds": "0"}

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2", "MaximumMessageSize": "2048",
                                                       "ReceiveMessageWaitTimeSeconds": "1"})
    changed = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (changed["DelaySeconds"], changed["MaximumMessageSize"], changed["ReceiveMessageWaitTimeSeconds"]) == \
        ("2", "2048", "1")

    sqs.tag_queue(QueueUrl=url, Tags={"env": "test", "team": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "env": "test"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}

    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    expect_error(lambda: sqs.purge_queue(QueueUrl=url), "AWS.SimpleQueueService.PurgeQueueInProgress", 403,
                 message=f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == \
        {"ApproximateNumberOfMessages": "0"}

    sqs.delete_queue(QueueUrl=url)
    expect_error(lambda: sqs.get_queue_url(QueueName=name), "AWS.SimpleQueueService.NonExistentQueue",
                 message="The specified queue does not exist.", query_code="QueueDoesNotExist")
    expect_error(lambda: sqs.create_queue(QueueName=name), "AWS.SimpleQueueService.QueueDeletedRecently")


def test_list_queues_prefix_and_pages(sqs, queues):
    prefix = unique("page")
    urls = sorted(sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5))
    try:
        first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
        assert first["QueueUrls"] == urls[:2] and "NextToken" in first
        rest = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=10, NextToken=first["NextToken"])
        assert rest["QueueUrls"] == urls[2:] and "NextToken" not in rest
        paged = [u for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix,
                                                                         PaginationConfig={"PageSize": 2})
                 for u in page.get("QueueUrls", [])]
        assert paged == urls
        assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique("none"))
    finally:
        for url in urls:
            sqs.delete_queue(QueueUrl=url)


def test_queue_errors(sqs, sqs_unvalidated, queues, endpoint):
    url = queues()
    missing = f"{endpoint}/{ACCOUNT}/{unique('missing')}"
    for call in (lambda: sqs.send_message(QueueUrl=missing, MessageBody="x"),
                 lambda: sqs.receive_message(QueueUrl=missing),
                 lambda: sqs.get_queue_attributes(QueueUrl=missing),
                 lambda: sqs.delete_queue(QueueUrl=missing),
                 lambda: sqs.purge_queue(QueueUrl=missing),
                 lambda: sqs.list_queue_tags(QueueUrl=missing),
                 lambda: sqs.get_queue_url(QueueName="nope", QueueOwnerAWSAccountId="999999999999")):
        expect_error(call, "AWS.SimpleQueueService.NonExistentQueue", message="The specified queue does not exist.")
    # Another account's URL is not this caller's queue.
    expect_error(lambda: sqs.get_queue_attributes(QueueUrl=url.replace(ACCOUNT, "999999999999")),
                 "AWS.SimpleQueueService.NonExistentQueue")
    expect_error(lambda: sqs.get_queue_attributes(QueueUrl="not-a-url"), "InvalidAddress")

    for name in ["bad name", "x" * 81, "dot.ted", unique("nofifo") + ".fifo"]:
        expect_error(lambda: sqs.create_queue(QueueName=name), "InvalidParameterValue",
                     message="Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
    expect_error(lambda: sqs.create_queue(QueueName=unique("f"), Attributes={"FifoQueue": "true"}),
                 "InvalidParameterValue")
    expect_error(lambda: sqs.create_queue(QueueName=unique("s"), Attributes={"FifoQueue": "false"}),
                 "InvalidAttributeName", message="Unknown Attribute FifoQueue.")
    expect_error(lambda: sqs.create_queue(QueueName=unique("s"), Attributes={"DeduplicationScope": "queue"}),
                 "InvalidAttributeName",
                 message="You can specify the DeduplicationScope only when FifoQueue is set to true.")
    for name, value in [("VisibilityTimeout", "43201"), ("DelaySeconds", "-1"), ("MaximumMessageSize", "1023"),
                        ("MessageRetentionPeriod", "1209601"), ("ReceiveMessageWaitTimeSeconds", "21"),
                        ("VisibilityTimeout", "soon")]:
        expect_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value}),
                     "InvalidAttributeValue", message=f"Invalid value for the parameter {name}.")
    expect_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"QueueArn": "x"}),
                 "InvalidAttributeName", message="Unknown Attribute QueueArn.")
    expect_error(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Colour"]),
                 "InvalidAttributeName", message="Unknown Attribute Colour.")
    expect_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"}),
                 "InvalidAttributeName", message="Unknown Attribute FifoQueue.")
    expect_error(lambda: sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:nope",
                                                               "maxReceiveCount": 3})}), "InvalidParameterValue")
    expect_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": "{"}),
                 "InvalidParameterValue")
    expect_error(lambda: sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=["1"], Actions=["SendMessage"]),
                 "AWS.SimpleQueueService.UnsupportedOperation")
    expect_error(lambda: sqs_unvalidated.create_queue(QueueName=unique("t"), Attributes={"VisibilityTimeout": 5}),
                 "SerializationException")


# ------------------------------------------------------------------------------------------
# Messages
# ------------------------------------------------------------------------------------------


def test_send_receive_delete_and_batches(sqs, queues):
    url = queues(VisibilityTimeout=30)
    one = sqs.send_message(QueueUrl=url, MessageBody="one")
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "two"},
        {"Id": "b", "MessageBody": "three", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
        {"Id": "bad", "MessageBody": "four", "MessageAttributes": {"k": {"DataType": "Text", "StringValue": "v"}}},
    ])
    assert sorted(e["Id"] for e in batch["Successful"]) == ["a", "b"]
    assert batch["Failed"] == [{
        "Id": "bad", "SenderFault": True, "Code": "InvalidParameterValue",
        "Message": "The type of message (user) attribute 'k' is invalid. You must use only the following supported "
                   "type prefixes: Binary, Number, String."}]
    by_id = {e["Id"]: e for e in batch["Successful"]}
    assert by_id["b"]["MD5OfMessageAttributes"] == md5_of_attributes({"k": {"DataType": "String", "StringValue": "v"}})

    messages = receive_all(sqs, url, 3, AttributeNames=["All"])
    assert sorted(m["Body"] for m in messages) == ["one", "three", "two"]
    assert {m["MessageId"] for m in messages} == {one["MessageId"], by_id["a"]["MessageId"], by_id["b"]["MessageId"]}
    for m in messages:
        assert m["Attributes"]["ApproximateReceiveCount"] == "1"
        assert abs(int(m["Attributes"]["SentTimestamp"]) / 1000 - time.time()) < 120
        assert m["Attributes"]["SenderId"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("0", "3")

    handles = {m["Body"]: m["ReceiptHandle"] for m in messages}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handles["one"])
    changed = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "x", "ReceiptHandle": handles["two"], "VisibilityTimeout": 0},
        {"Id": "y", "ReceiptHandle": "forged", "VisibilityTimeout": 0}])
    assert [e["Id"] for e in changed["Successful"]] == ["x"]
    assert changed["Failed"][0]["Id"] == "y" and changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in again] == ["two"]
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "1", "ReceiptHandle": again[0]["ReceiptHandle"]},
        {"Id": "2", "ReceiptHandle": handles["three"]},
        {"Id": "3", "ReceiptHandle": "AAAA"}])
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["1", "2"]
    assert deleted["Failed"] == [{"Id": "3", "SenderFault": True, "Code": "ReceiptHandleIsInvalid",
                                  "Message": 'The input receipt handle "AAAA" is not a valid receipt handle.'}]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_a_received_message_reappears_after_its_visibility_timeout(sqs, queues):
    url = queues(VisibilityTimeout=1)
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    started = time.monotonic()
    # A long poll wakes when the visibility deadline passes (no polling loop on the client side).
    second = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, AttributeNames=["All"])["Messages"][0]
    assert time.monotonic() - started < 5
    assert second["MessageId"] == first["MessageId"] and second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    # ChangeMessageVisibility extends it; VisibilityTimeout on the receive overrides the queue's.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
    third = sqs.receive_message(QueueUrl=url, VisibilityTimeout=2)["Messages"][0]
    time.sleep(1.2)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    poll(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), timeout=5, interval=0.2,
         what="the message after its 2 s visibility timeout")
    expect_error(lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"],
                                                       VisibilityTimeout=43201), "InvalidParameterValue")


def test_long_polling_returns_as_soon_as_a_message_is_sent(sqs, queues):
    url = queues()
    result = {}

    def receive():
        started = time.monotonic()
        result["response"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=receive)
    thread.start()
    poll(lambda: thread.is_alive(), timeout=5, what="the long poll to start")
    sqs.send_message(QueueUrl=url, MessageBody="wake")
    thread.join(timeout=25)
    assert result["response"]["Messages"][0]["Body"] == "wake"
    assert result["seconds"] < 10
    # An empty long poll lasts its WaitTimeSeconds; the queue's ReceiveMessageWaitTimeSeconds is the default.
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 < time.monotonic() - started < 5
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ReceiveMessageWaitTimeSeconds": "1"})
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert 0.9 < time.monotonic() - started < 5


def test_delays(sqs, queues):
    url = queues(DelaySeconds=1)
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    sqs.send_message(QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    delayed = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert delayed["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["no delay"]
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in got] == ["queue delay"]


def test_message_errors(sqs, sqs_unvalidated, queues):
    url = queues()
    expect_error(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11), "InvalidParameterValue",
                 message="Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, "
                         "if provided.", query_code="InvalidParameterValueException")
    expect_error(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21), "InvalidParameterValue",
                 message="Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, "
                         "if provided.")
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody=""), "MissingParameter",
                 message="The request must contain the parameter MessageBody.",
                 query_code="MissingRequiredParameterException")
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901), "InvalidParameterValue")
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d"),
                 "InvalidParameterValue")
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="bell \x07"), "InvalidMessageContents")
    for attributes, fragment in [
        ({"k": {"DataType": "Text", "StringValue": "v"}}, "is invalid"),
        ({"k": {"DataType": "String", "StringValue": ""}}, "must contain a non-empty value of type 'String'"),
        ({"k": {"DataType": "Number", "StringValue": "ten"}}, "to a number"),
        ({"k": {"DataType": "Binary", "StringValue": "x"}}, "must contain a non-empty value of type 'Binary'"),
        ({"AWS.k": {"DataType": "String", "StringValue": "v"}}, "is invalid"),
        ({f"k{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}, "exceeds the allowed maximum"),
    ]:
        error = expect_error(lambda: sqs_unvalidated.send_message(QueueUrl=url, MessageBody="x",
                                                                 MessageAttributes=attributes),
                             "InvalidParameterValue")
        assert fragment in error["Message"], error
    expect_error(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="forged"), "ReceiptHandleIsInvalid",
                 message='The input receipt handle "forged" is not a valid receipt handle.')
    # A handle of another queue, or one with a flipped bit, is no handle of this queue.
    other = queues()
    sqs.send_message(QueueUrl=other, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=other)["Messages"][0]["ReceiptHandle"]
    expect_error(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle), "ReceiptHandleIsInvalid")
    raw = bytearray(base64.b64decode(handle))
    raw[5] ^= 1
    expect_error(lambda: sqs.delete_message(QueueUrl=other, ReceiptHandle=base64.b64encode(bytes(raw)).decode()),
                 "ReceiptHandleIsInvalid")
    sqs.delete_message(QueueUrl=other, ReceiptHandle=handle)


def test_batch_errors(sqs, sqs_unvalidated, queues):
    url = queues()
    eleven = [{"Id": str(i), "MessageBody": "x"} for i in range(11)]
    expect_error(lambda: sqs.send_message_batch(QueueUrl=url, Entries=eleven),
                 "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                 message="Maximum number of entries per request are 10. You have sent 11.",
                 query_code="TooManyEntriesInBatchRequest")
    expect_error(lambda: sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": "h"}
                                                                        for i in range(11)]),
                 "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
    expect_error(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "a"},
                                                                       {"Id": "1", "MessageBody": "b"}]),
                 "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", message="Id 1 repeated.")
    expect_error(lambda: sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": "h", "VisibilityTimeout": 1}, {"Id": "a", "ReceiptHandle": "h", "VisibilityTimeout": 1}]),
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
    expect_error(lambda: sqs_unvalidated.send_message_batch(QueueUrl=url, Entries=[]),
                 "AWS.SimpleQueueService.EmptyBatchRequest")
    expect_error(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "no:colons", "MessageBody": "a"}]),
                 "AWS.SimpleQueueService.InvalidBatchEntryId",
                 message="A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                         "It can be at most 80 letters long.")
    expect_error(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": "x" * 100_000} for i in range(3)]),
        "AWS.SimpleQueueService.BatchRequestTooLong",
        message="Batch requests cannot be longer than 262144 bytes. You have sent 300000 bytes.")
    # Nothing of the refused batches was stored.
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == \
        {"ApproximateNumberOfMessages": "0"}


def test_hostile_input_gets_clean_errors_and_loses_nothing(sqs, sqs_unvalidated, queues, endpoint):
    url = queues()
    kept = sqs.send_message(QueueUrl=url, MessageBody="keep me")["MessageId"]
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x" * (300 * 1024)), "InvalidParameterValue",
                 message="One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.")
    # Exactly the limit, body and attributes together, is accepted; one byte more is not.
    limit_attrs = {"k": {"DataType": "String", "StringValue": "v"}}  # 1 + 6 + 1 bytes
    exact = sqs.send_message(QueueUrl=url, MessageBody="y" * (262144 - 8), MessageAttributes=limit_attrs)["MessageId"]
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="y" * (262144 - 7), MessageAttributes=limit_attrs),
                 "InvalidParameterValue")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="z" * 1025), "InvalidParameterValue",
                 message="One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "262144"})
    for handle in ["", "A" * 4000, "AQAAAAAAAAABAAAAAAAAAAEAAAABOig+qpk0AXDyYN69DmJXEA==", "%%%", "null"]:
        expect_error(lambda: sqs_unvalidated.delete_message(QueueUrl=url, ReceiptHandle=handle),
                     "ReceiptHandleIsInvalid")
        expect_error(lambda: sqs_unvalidated.change_message_visibility(QueueUrl=url, ReceiptHandle=handle or "x",
                                                                      VisibilityTimeout=0), "ReceiptHandleIsInvalid")
    # Malformed bodies and wrong types are refused without harm.
    for body in [b"{", b"[]", b'{"QueueUrl": 5}', b'{"QueueUrl": "%s", "MessageBody": ["x"]}' % url.encode()]:
        response = helpers.raw_request(endpoint, "POST", "/", body=body, headers={
            "X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request"})
        assert response.status == 400, response
        assert "__type" in response.json(), response
    got = receive_all(sqs, url, 2)
    assert sorted(m["MessageId"] for m in got) == sorted([kept, exact])
    assert next(m for m in got if m["MessageId"] == exact)["Body"] == "y" * (262144 - 8)


# ------------------------------------------------------------------------------------------
# FIFO
# ------------------------------------------------------------------------------------------


def test_fifo_ordering_groups_and_deduplication(sqs, queues):
    url = queues("fifo", fifo=True, ContentBasedDeduplication="true", VisibilityTimeout=30)
    sequences = []
    for i in range(5):
        sent = sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A")
        sequences.append(int(sent["SequenceNumber"]))
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"b{i}", MessageGroupId="B")
    assert sequences == sorted(sequences) and len(set(sequences)) == 5
    # Deduplication: content-based, and by explicit id; the duplicate answers the original's id.
    first = sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="A")
    assert first["SequenceNumber"] == str(sequences[0])
    explicit = sqs.send_message(QueueUrl=url, MessageBody="c0", MessageGroupId="C", MessageDeduplicationId="d-1")
    again = sqs.send_message(QueueUrl=url, MessageBody="different", MessageGroupId="C", MessageDeduplicationId="d-1")
    assert again["MessageId"] == explicit["MessageId"]

    head = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in head] == ["a0"]
    assert head[0]["Attributes"]["MessageGroupId"] == "A"
    assert head[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"a0").hexdigest()
    assert head[0]["Attributes"]["SequenceNumber"] == str(sequences[0])
    # Group A has a message in flight: nothing more of it until that one is deleted.
    others = receive_all(sqs, url, 4, timeout=3)
    assert sorted(m["Body"] for m in others) == ["b0", "b1", "b2", "c0"]
    assert [m["Body"] for m in others if m["Body"].startswith("b")] == ["b0", "b1", "b2"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=head[0]["ReceiptHandle"])
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["a1", "a2", "a3", "a4"]

    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x"), "MissingParameter",
                 message="The request must contain the parameter MessageGroupId.")
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=2),
                 "InvalidParameterValue",
                 message="Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that "
                         "is not valid for this queue type.")
    expect_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="has space"),
                 "InvalidParameterValue")
    plain = queues("fifo", fifo=True)
    expect_error(lambda: sqs.send_message(QueueUrl=plain, MessageBody="x", MessageGroupId="g"),
                 "InvalidParameterValue",
                 message="The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                         "provided explicitly")


def test_fifo_receive_request_attempt_id_and_high_throughput(sqs, queues):
    url = queues("fifo", fifo=True, ContentBasedDeduplication="true", DeduplicationScope="messageGroup",
                 FifoThroughputLimit="perMessageGroupId")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["FifoQueue"], attributes["DeduplicationScope"], attributes["FifoThroughputLimit"]) == \
        ("true", "messageGroup", "perMessageGroupId")
    one = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g1")
    two = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g2")
    assert one["MessageId"] != two["MessageId"]  # deduplication per message group
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="try-1")["Messages"]
    retry = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="try-1")["Messages"]
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in retry] == [(m["MessageId"], m["ReceiptHandle"]) for m in first]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="try-2")


# ------------------------------------------------------------------------------------------
# Dead-letter queues and redrive
# ------------------------------------------------------------------------------------------


def test_redrive_to_a_dead_letter_queue_and_back(sqs, queues):
    dlq = queues("dlq")
    dlq_arn = arn_of(sqs, dlq)
    source = queues("src", VisibilityTimeout=1,
                    RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    source_arn = arn_of(sqs, source)
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])
                        ["Attributes"]["RedrivePolicy"])
    assert policy == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]

    sent = [sqs.send_message(QueueUrl=source, MessageBody=f"poison-{i}")["MessageId"] for i in range(3)]
    for attempt in (1, 2):
        got = receive_all(sqs, source, 3, timeout=8, AttributeNames=["ApproximateReceiveCount"])
        assert sorted(m["MessageId"] for m in got) == sorted(sent)
        assert {m["Attributes"]["ApproximateReceiveCount"] for m in got} == {str(attempt)}
    # The receive that would exceed maxReceiveCount moves them instead: this long poll wakes when they become
    # visible again, moves all three, and answers nothing.
    assert "Messages" not in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, WaitTimeSeconds=3)
    dead = receive_all(sqs, dlq, 3, timeout=8, AttributeNames=["All"], VisibilityTimeout=0)
    assert sorted(m["MessageId"] for m in dead) == sorted(sent)
    assert {m["Attributes"]["DeadLetterQueueSourceArn"] for m in dead} == {source_arn}
    assert "Messages" not in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)

    # Back with a message move task (to their source), at most 1 message a second... here 50.
    expect_error(lambda: sqs.start_message_move_task(SourceArn=source_arn), "InvalidParameterValue",
                 message="Source queue must be configured as a Dead Letter Queue.")
    expect_error(lambda: sqs.start_message_move_task(SourceArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:nope"),
                 "ResourceNotFoundException", 404,
                 message="The resource that you specified for the SourceArn parameter doesn't exist.")
    expect_error(lambda: sqs.start_message_move_task(SourceArn=dlq_arn,
                                                     DestinationArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:nope"),
                 "ResourceNotFoundException", 404)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=50)["TaskHandle"]
    decoded = json.loads(base64.b64decode(handle))
    assert decoded["sourceArn"] == dlq_arn

    def completed():
        results = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
        return results if results[0]["Status"] == "COMPLETED" else None

    results = poll(completed, timeout=15, interval=0.1, what="the move task to complete")
    assert results[0]["ApproximateNumberOfMessagesMoved"] == 3 and results[0]["SourceArn"] == dlq_arn
    back = receive_all(sqs, source, 3, timeout=8, AttributeNames=["All"])
    assert sorted(m["MessageId"] for m in back) == sorted(sent)
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in back} == {"1"}
    assert all("DeadLetterQueueSourceArn" not in m["Attributes"] for m in back)
    expect_error(lambda: sqs.cancel_message_move_task(TaskHandle=handle), "ResourceNotFoundException", 404,
                 message="Task does not exist.")
    expect_error(lambda: sqs.cancel_message_move_task(TaskHandle="garbage"), "InvalidParameterValue",
                 message="Value for parameter TaskHandle is invalid.")


def test_move_task_to_a_destination_and_cancel(sqs, queues):
    dlq = queues("dlq")
    dlq_arn = arn_of(sqs, dlq)
    queues("src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}))
    destination = queues("dest")
    for i in range(0, 20, 10):
        sqs.send_message_batch(QueueUrl=dlq, Entries=[{"Id": str(j), "MessageBody": f"m{i + j}"} for j in range(10)])
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, destination),
                                MaxNumberOfMessagesPerSecond=2)
    expect_error(lambda: sqs.start_message_move_task(SourceArn=dlq_arn), "InvalidParameterValue",
                 message="There is already a task running. Only one active task is allowed for a source queue arn "
                         "at a given time.")
    running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert running["Status"] == "RUNNING" and running["MaxNumberOfMessagesPerSecond"] == 2
    assert running["ApproximateNumberOfMessagesToMove"] == 20
    moved = sqs.cancel_message_move_task(TaskHandle=running["TaskHandle"])["ApproximateNumberOfMessagesMoved"]
    assert moved < 20
    final = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert final["Status"] == "CANCELLED"
    left = int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])
    arrived = int(sqs.get_queue_attributes(QueueUrl=destination, AttributeNames=["ApproximateNumberOfMessages"])
                  ["Attributes"]["ApproximateNumberOfMessages"])
    assert left + arrived == 20 and left > 0


# ------------------------------------------------------------------------------------------
# The AWS CLI v2 (Debian's: the query protocol)
# ------------------------------------------------------------------------------------------


def test_aws_cli(aws, endpoint):
    name = unique("cli")
    created = json.loads(aws("sqs", "create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=7",
                             "--tags", "team=a").stdout)
    url = created["QueueUrl"]
    assert url == f"{endpoint}/{ACCOUNT}/{name}"
    try:
        sent = json.loads(aws("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli",
                              "--message-attributes",
                              json.dumps({"k": {"DataType": "String", "StringValue": "v"}})).stdout)
        assert sent["MD5OfMessageBody"] == hashlib.md5(b"from the cli").hexdigest()
        assert sent["MD5OfMessageAttributes"] == md5_of_attributes({"k": {"DataType": "String", "StringValue": "v"}})
        batch = json.loads(aws("sqs", "send-message-batch", "--queue-url", url, "--entries",
                               "Id=1,MessageBody=b1", "Id=2,MessageBody=b2").stdout)
        assert sorted(e["Id"] for e in batch["Successful"]) == ["1", "2"]
        attributes = json.loads(aws("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names",
                                    "All").stdout)["Attributes"]
        assert attributes["VisibilityTimeout"] == "7" and attributes["ApproximateNumberOfMessages"] == "3"
        received = json.loads(aws("sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
                                  "--attribute-names", "All", "--message-attribute-names", "All").stdout)["Messages"]
        assert sorted(m["Body"] for m in received) == ["b1", "b2", "from the cli"]
        with_attributes = next(m for m in received if m["Body"] == "from the cli")
        assert with_attributes["MessageAttributes"] == {"k": {"StringValue": "v", "DataType": "String"}}
        assert with_attributes["Attributes"]["ApproximateReceiveCount"] == "1"
        for m in received:
            aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
        assert json.loads(aws("sqs", "list-queue-tags", "--queue-url", url).stdout)["Tags"] == {"team": "a"}
        assert url in json.loads(aws("sqs", "list-queues", "--queue-name-prefix", name).stdout)["QueueUrls"]
        assert json.loads(aws("sqs", "get-queue-url", "--queue-name", name).stdout)["QueueUrl"] == url
        aws("sqs", "set-queue-attributes", "--queue-url", url, "--attributes", "DelaySeconds=1")
        failed = aws("sqs", "get-queue-url", "--queue-name", unique("missing"), check=False)
        assert failed.returncode != 0 and "AWS.SimpleQueueService.NonExistentQueue" in failed.stderr
        failed = aws("sqs", "send-message-batch", "--queue-url", url, "--entries", "Id=1,MessageBody=a",
                     "Id=1,MessageBody=b", check=False)
        assert "AWS.SimpleQueueService.BatchEntryIdsNotDistinct" in failed.stderr
        failed = aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", "forged", check=False)
        assert "ReceiptHandleIsInvalid" in failed.stderr
        aws("sqs", "purge-queue", "--queue-url", url)
    finally:
        aws("sqs", "delete-queue", "--queue-url", url)


# ------------------------------------------------------------------------------------------
# Durability: a message SendMessage acknowledged survives kill -9
# ------------------------------------------------------------------------------------------


def test_acknowledged_messages_survive_kill_9(tmp_path):
    data_dir = str(tmp_path / "data")
    os.makedirs(data_dir)
    server = RestartableServer(data_dir).start()
    try:
        client = _client(server.endpoint)
        url = client.create_queue(QueueName="durable", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
        # One message received before the kill and not deleted: it must come back after its visibility timeout.
        client.send_message(QueueUrl=url, MessageBody="in flight")
        in_flight = client.receive_message(QueueUrl=url)["Messages"][0]["MessageId"]
        acknowledged = []
        lock = threading.Lock()
        stop = threading.Event()

        def sender(worker):
            own = _client(server.endpoint)
            i = 0
            while not stop.is_set():
                try:
                    message_id = own.send_message(QueueUrl=url, MessageBody=f"{worker}-{i}")["MessageId"]
                except Exception:  # the server is gone: what was not acknowledged may be lost
                    return
                with lock:
                    acknowledged.append(message_id)
                i += 1

        with ThreadPoolExecutor(max_workers=16) as pool:
            for worker in range(16):
                pool.submit(sender, worker)
            poll(lambda: len(acknowledged) >= 300, timeout=30, interval=0.01, what="300 acknowledged sends")
            server.kill9()
            stop.set()
        server.start()
        client = _client(server.endpoint)
        want = set(acknowledged) | {in_flight}
        got = set()
        deadline = time.monotonic() + 60
        while not want <= got and time.monotonic() < deadline:
            messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                                              VisibilityTimeout=60).get("Messages", [])
            got |= {m["MessageId"] for m in messages}
        print(f"\nkill -9 test: {len(acknowledged)} sends acknowledged before the kill; {len(want & got)} found after "
              f"the restart")
        assert want <= got, f"lost {len(want - got)} acknowledged messages"
    finally:
        server.stop()

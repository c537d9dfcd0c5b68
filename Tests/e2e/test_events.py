"""Amazon EventBridge end to end (issue #15): unmodified boto3 and the AWS CLI v2 against the session's server.

What is asserted is what EventBridge does: botocore's events 2015-10-07 model, AWS's EventBridge user guide and API
reference, and answers recorded against real AWS (error codes and messages, the shapes of DescribeRule, ListRules,
DescribeEventBus, PutTargets and PutEvents answers, input transformer outputs, Lambda's destination events).
Deliveries are observed through Python functions that record every invocation in a directory the test reads (the
session's server runs functions in the process tier), one file per invocation, so duplicates and extras are counted.

`test_cron_report_example_fires_every_minute` runs `examples/cron-report/deploy.sh` and waits for two runs of its
`rate(1 minute)` rule: it is the suite's one slow test (about two minutes).
"""

import datetime
import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

import helpers
from events_helpers import (
    BAD_EVENT, BAD_SCHEDULE_EXPRESSION, EVENT_KEYS, EVENT_TIME_RE, EVENTS_PRINCIPAL, PATTERN_INVALID_PREFIX,
    RECORDER_SOURCE,
    RULE_HAS_TARGETS, SCHEDULE_ONLY_ON_DEFAULT_BUS, TOO_MANY_TARGETS, UUID_RE, EventResources, allow, bus_arn,
    bus_not_found, client, event_time, expect_error, function_arn, invalid_placeholder, make_out_dir, name,
    only_one_input, received_events, recorder, rule_arn, rule_not_found, settle, wait_for_events, without_metadata,
)
from helpers import ACCOUNT, REGION, poll, unique
from servers import RestartableServer

pytestmark = pytest.mark.usefixtures("server_ok")

EXAMPLE = os.path.join(helpers.REPO, "examples", "cron-report")

# The detail of the recorded input-transformer tests (localstack's AWS-validated test_events_inputs).
DETAIL = {
    "command": "update-account",
    "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
    "listsingle": ["HIGH"],
    "listmulti": ["ACTIVE", "INACTIVE"],
    "valid": True,
}


@pytest.fixture(scope="module")
def events(endpoint):
    return client(endpoint, "events")


@pytest.fixture(scope="module")
def sqs(endpoint):
    return client(endpoint, "sqs")


@pytest.fixture
def eb(events):
    resources = EventResources(events)
    yield resources
    resources.cleanup()


@pytest.fixture
def out_dir(tmp_path):
    return make_out_dir(tmp_path)


def pattern_rule(eb, pattern, bus="default", **kwargs):
    return eb.rule(bus=bus, EventPattern=json.dumps(pattern), **kwargs)


def entry(source, detail_type, detail, **extra):
    """A PutEvents entry (Detail is a JSON string on the wire)."""
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), **extra}


def put_events(events, entries):
    """PutEvents that must fully succeed; returns the EventIds in entry order."""
    answer = events.put_events(Entries=entries)
    assert answer["FailedEntryCount"] == 0, answer
    ids = [e["EventId"] for e in answer["Entries"]]
    assert len(ids) == len(entries) and all(UUID_RE.match(i) for i in ids), answer
    return ids


def deliver_to(events, lam, function, rule, rule_arn_, bus="default", target_id="fn", **target):
    """Target `function` from `rule`, with the permission EventBridge needs (add-permission, as on AWS)."""
    allow(lam, function, EVENTS_PRINCIPAL, rule_arn_)
    params = {"Rule": rule, "Targets": [{"Id": target_id, "Arn": function_arn(function), **target}]}
    if bus != "default":
        params["EventBusName"] = bus
    answer = events.put_targets(**params)
    assert (answer["FailedEntryCount"], answer["FailedEntries"]) == (0, []), answer


def assert_event_shape(event, source, detail_type, detail, event_id=None, resources=()):
    """The event EventBridge delivers for a PutEvents entry, field by field."""
    assert set(event) == EVENT_KEYS, sorted(event)
    assert event["version"] == "0"
    assert UUID_RE.match(event["id"]), event["id"]
    if event_id is not None:
        assert event["id"] == event_id, "the delivered id is the EventId PutEvents answered"
    assert (event["source"], event["detail-type"], event["detail"]) == (source, detail_type, detail)
    assert (event["account"], event["region"]) == (ACCOUNT, REGION)
    assert event["resources"] == list(resources)
    assert EVENT_TIME_RE.match(event["time"]), event["time"]


# ------------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------------


def test_put_describe_list_update_and_delete_a_pattern_rule(events, eb):
    pattern = {"source": ["e2e.orders"], "detail-type": ["Order Placed"],
               "detail": {"amount": [{"numeric": [">", 100]}]}}
    rule, arn = pattern_rule(eb, pattern, Description="big orders")
    assert arn == rule_arn(rule)

    described = without_metadata(events.describe_rule(Name=rule))
    assert json.loads(described.pop("EventPattern")) == pattern
    # Recorded: DescribeRule adds CreatedBy (the account) and has no ScheduleExpression for a pattern rule.
    assert described == {"Name": rule, "Arn": arn, "State": "ENABLED", "Description": "big orders",
                         "EventBusName": "default", "CreatedBy": ACCOUNT}

    listed = events.list_rules(NamePrefix=rule)["Rules"]
    assert len(listed) == 1, listed
    item = dict(listed[0])
    assert json.loads(item.pop("EventPattern")) == pattern
    assert item == {"Name": rule, "Arn": arn, "State": "ENABLED", "Description": "big orders",
                    "EventBusName": "default"}

    # PutRule on an existing rule replaces it: same ARN, and what is omitted is not kept (PutRule's documentation:
    # "If you omit arguments in PutRule, the old values for those arguments are not kept").
    other = {"source": ["e2e.other"]}
    assert events.put_rule(Name=rule, EventPattern=json.dumps(other), State="DISABLED")["RuleArn"] == arn
    described = without_metadata(events.describe_rule(Name=rule))
    assert json.loads(described["EventPattern"]) == other
    assert described["State"] == "DISABLED"
    assert "Description" not in described, described

    events.delete_rule(Name=rule)
    expect_error(lambda: events.describe_rule(Name=rule), "ResourceNotFoundException", 400, rule_not_found(rule))
    assert events.list_rules(NamePrefix=rule)["Rules"] == []


def test_list_rules_by_prefix_and_page(events, eb):
    prefix = name("page")
    names = [f"{prefix}-{i}" for i in range(5)]
    for rule in names:
        pattern_rule(eb, {"source": ["e2e.page"]}, rule=rule)
    pattern_rule(eb, {"source": ["e2e.page"]}, rule=name("elsewhere"))

    first = events.list_rules(NamePrefix=prefix, Limit=3)
    assert [r["Name"] for r in first["Rules"]] == names[:3]
    assert first.get("NextToken"), first
    second = events.list_rules(NamePrefix=prefix, Limit=3, NextToken=first["NextToken"])
    assert [r["Name"] for r in second["Rules"]] == names[3:]
    assert "NextToken" not in second, second

    pages = events.get_paginator("list_rules").paginate(NamePrefix=prefix, PaginationConfig={"PageSize": 2})
    assert [r["Name"] for page in pages for r in page["Rules"]] == names
    assert events.list_rules(NamePrefix=name("nothing"))["Rules"] == []


def test_enable_and_disable_rule(events, eb):
    rule, _ = pattern_rule(eb, {"source": ["e2e.toggle"]}, State="DISABLED")
    assert events.describe_rule(Name=rule)["State"] == "DISABLED"
    events.enable_rule(Name=rule)
    assert events.describe_rule(Name=rule)["State"] == "ENABLED"
    events.disable_rule(Name=rule)
    assert events.describe_rule(Name=rule)["State"] == "DISABLED"
    assert events.list_rules(NamePrefix=rule)["Rules"][0]["State"] == "DISABLED"

    missing = name("missing")
    expect_error(lambda: events.enable_rule(Name=missing), "ResourceNotFoundException", 400, rule_not_found(missing))
    expect_error(lambda: events.disable_rule(Name=missing), "ResourceNotFoundException", 400, rule_not_found(missing))


# Accepted by EventBridge (recorded PutRule answers, and the examples of AWS's "schedule expressions for rules" page).
VALID_RULE_SCHEDULES = [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
    "cron(0 10 * * ? *)", "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)", "cron(0/10 * ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 2 ? * SAT *)",
    "cron(0 2 ? * SAT#3 *)", "cron(15 10 ? * 6L 2002-2005)", "cron(5,35 14 * * ? *)", "cron(0/5 5 ? JAN 1-5 2022)",
    "cron(0 0 L * ? *)", "cron(0 9 1W * ? *)",
]

# Refused with "Parameter ScheduleExpression is not valid." (the cron ones recorded; AWS's page: a value of 1 takes the
# singular unit and more than 1 the plural, `*` cannot be in both day fields, minutes are 0-59, only cron and rate).
INVALID_RULE_SCHEDULES = [
    "cron(INVALID)", "cron(0 dummy ? * MON-FRI *)", "cron(7 20 * * NOT *)", "cron(71 8 1 * ? *)", "cron(0 1 * * * *)",
    "cron(0 12 * * ?)", "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(10 seconds)", "rate(minutes)",
    "at(2030-01-01T00:00:00)",
]


def test_schedule_expressions_on_rules(events, eb):
    for expression in VALID_RULE_SCHEDULES:
        rule, arn = eb.rule(ScheduleExpression=expression, State="DISABLED")
        described = without_metadata(events.describe_rule(Name=rule))
        assert described["ScheduleExpression"] == expression, described
        assert "EventPattern" not in described, described
        assert described["Arn"] == arn == rule_arn(rule)

    for expression in INVALID_RULE_SCHEDULES:
        rule = name("badsched")
        expect_error(lambda: events.put_rule(Name=rule, ScheduleExpression=expression), "ValidationException", 400,
                     BAD_SCHEDULE_EXPRESSION)
        expect_error(lambda: events.describe_rule(Name=rule), "ResourceNotFoundException", 400, rule_not_found(rule))

    bus = eb.bus()
    expect_error(lambda: events.put_rule(Name=name("busched"), EventBusName=bus, ScheduleExpression="rate(5 minutes)"),
                 "ValidationException", 400, SCHEDULE_ONLY_ON_DEFAULT_BUS)
    # A rule needs a pattern or a schedule.
    expect_error(lambda: events.put_rule(Name=name("empty")), "ValidationException", 400)
    # The model's name pattern, checked by the service (botocore does not check patterns).
    expect_error(lambda: events.put_rule(Name="bad name!", EventPattern='{"source": ["x"]}'), "ValidationException",
                 400, message_startswith="1 validation error detected: Value 'bad name!' at 'name' failed to satisfy "
                                    "constraint: Member must satisfy regular expression pattern")


# Recorded EventBridge refusals, message included (localstack's AWS-validated test_events_patterns: "MessageRaw").
RECORDED_PATTERN_REFUSALS = {
    '{"int": 42}':
        'Event pattern is not valid. Reason: "int" must be an object or an array\n'
        ' at [Source: (String)"{"int": 42}"; line: 1, column: 11]',
    '{"resources": []}':
        'Event pattern is not valid. Reason: Empty arrays are not allowed\n'
        ' at [Source: (String)"{"resources": []}"; line: 1, column: 17]',
    '{"my_key": [{"EXISTS": true}]}':
        'Event pattern is not valid. Reason: Unrecognized match type EXISTS\n'
        ' at [Source: (String)"{"my_key": [{"EXISTS": true}]}"; line: 1, column: 28]',
    '{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}':
        'Event pattern is not valid. Reason: Bad numeric range operator: >\n'
        ' at [Source: (String)"{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}"; line: 1, column: 49]',
    "{'bad': 'quotation'}":
        "Event pattern is not valid. Reason: Unexpected character (''' (code 39)): was expecting double-quote to start "
        "field name\n at [Source: (String)\"{'bad': 'quotation'}\"; line: 1, column: 2]",
    '["not", "a", "dict", "but valid json"]':
        'Event pattern is not valid. Reason: Filter is not an object\n'
        ' at [Source: (String)"["not", "a", "dict", "but valid json"]"; line: 1, column: 2]',
}


def test_bad_patterns_are_refused_as_eventbridge_does(events, eb):
    valid_event = json.dumps({"id": "1", "account": ACCOUNT, "source": "x", "time": "2024-01-01T00:00:00Z",
                              "region": REGION, "resources": [], "detail-type": "t", "detail": {}})
    for pattern, message in RECORDED_PATTERN_REFUSALS.items():
        rule = name("badpat")
        expect_error(lambda: events.put_rule(Name=rule, EventPattern=pattern), "InvalidEventPatternException", 400,
                     message)
        expect_error(lambda: events.describe_rule(Name=rule), "ResourceNotFoundException", 400, rule_not_found(rule))
        expect_error(lambda: events.test_event_pattern(EventPattern=pattern, Event=valid_event),
                     "InvalidEventPatternException", 400, message)
    for pattern in ['{"source": [{"prefix": 1}]}', '{"detail": {"ip": [{"cidr": "10.0.0.0"}]}}',
                    '{"detail": {"n": [{"numeric": 10}]}}', '{"source": ["a"], "$or": [{"x": ["1"]}]}']:
        expect_error(lambda: events.put_rule(Name=name("badpat"), EventPattern=pattern),
                     "InvalidEventPatternException", 400, message_startswith=PATTERN_INVALID_PREFIX)

    # Longer than the model's 4096 characters: the length constraint, a ValidationException.
    long_pattern = json.dumps({"source": ["x" * 5000]})
    expect_error(lambda: events.put_rule(Name=name("longpat"), EventPattern=long_pattern), "ValidationException", 400,
                 contains="Member must have length less than or equal to 4096")


def test_test_event_pattern(events):
    # AWS's TestEventPattern example event, and patterns from the event-pattern pages.
    event = {
        "id": "e00c66cb-fe7a-4fcc-81ad-58eb60f5d96b", "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2", "account": ACCOUNT, "time": "2017-04-22T13:19:30Z", "region": REGION,
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated", "c-count": 5,
                   "source-ip": "10.0.0.255", "tags": ["a", "b"]},
    }
    verdicts = [
        ({"source": ["aws.ec2"]}, True),
        ({"source": ["aws.s3"]}, False),
        ({"detail": {"state": ["terminated", "stopped"]}}, True),
        ({"detail": {"state": [{"anything-but": "terminated"}]}}, False),
        ({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, True),
        ({"detail": {"c-count": [{"numeric": [">", 5]}]}}, False),
        ({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, True),
        ({"detail": {"instance-id": [{"prefix": "i-123"}]}}, True),
        ({"detail": {"instance-id": [{"suffix": "def1"}]}}, False),
        ({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}, True),
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"detail": {"tags": ["b"]}}, True),
        ({"resources": [{"wildcard": "arn:aws:ec2:*:instance/*"}]}, True),
        ({"source": ["aws.s3"], "$or": [{"detail": {"state": ["terminated"]}}, {"detail": {"c-count": [9]}}]}, False),
        ({"$or": [{"source": ["aws.s3"]}, {"detail": {"c-count": [5]}}]}, True),
    ]
    for pattern, expected in verdicts:
        got = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))
        assert without_metadata(got) == {"Result": expected}, (pattern, got)

    # The event must be a JSON object with id, account, source, time, region, resources and detail-type
    # (recorded: a plain string, an array and an object without them are "Parameter Event is not valid.").
    for bad in ["plain string", json.dumps(["plain string"]), json.dumps({"testEvent": "value"})]:
        expect_error(lambda: events.test_event_pattern(EventPattern='{"source": ["x"]}', Event=bad),
                     "ValidationException", 400, BAD_EVENT)


# ------------------------------------------------------------------------------------------
# Targets
# ------------------------------------------------------------------------------------------


def test_put_list_and_remove_targets(events, eb, sqs):
    rule, arn = pattern_rule(eb, {"source": ["e2e.targets"]})
    fn = function_arn(name("fn"))  # EventBridge does not check that a target exists when it is put
    dlq_url = sqs.create_queue(QueueName=name("dlq"))["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        targets = [
            {"Id": "a-input", "Arn": fn, "Input": '{"constant": true}'},
            {"Id": "b-path", "Arn": fn, "InputPath": "$.detail"},
            {"Id": "c-transformer", "Arn": fn, "InputTransformer": {
                "InputPathsMap": {"state": "$.detail.state"}, "InputTemplate": '{"state": <state>}'},
             "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
             "DeadLetterConfig": {"Arn": dlq}},
        ]
        answer = events.put_targets(Rule=rule, Targets=targets)
        assert without_metadata(answer) == {"FailedEntryCount": 0, "FailedEntries": []}
        listed = sorted(events.list_targets_by_rule(Rule=rule)["Targets"], key=lambda t: t["Id"])
        assert listed == targets

        # The same Id again replaces that target.
        events.put_targets(Rule=rule, Targets=[{"Id": "b-path", "Arn": fn, "InputPath": "$.detail.other"}])
        listed = {t["Id"]: t for t in events.list_targets_by_rule(Rule=rule)["Targets"]}
        assert listed["b-path"] == {"Id": "b-path", "Arn": fn, "InputPath": "$.detail.other"}
        assert len(listed) == 3

        # Updating the rule keeps its targets (recorded).
        events.put_rule(Name=rule, EventPattern='{"source": ["e2e.targets.v2"]}')
        assert len(events.list_targets_by_rule(Rule=rule)["Targets"]) == 3

        # Pages.
        events.put_targets(Rule=rule, Targets=[{"Id": "d", "Arn": fn}, {"Id": "e", "Arn": fn}])
        first = events.list_targets_by_rule(Rule=rule, Limit=3)
        assert len(first["Targets"]) == 3 and first.get("NextToken"), first
        rest = events.list_targets_by_rule(Rule=rule, Limit=3, NextToken=first["NextToken"])
        assert len(rest["Targets"]) == 2 and "NextToken" not in rest, rest
        assert {t["Id"] for t in first["Targets"] + rest["Targets"]} == {"a-input", "b-path", "c-transformer", "d", "e"}

        # Five targets per rule: a sixth is refused, replacing one of the five is not.
        expect_error(lambda: events.put_targets(Rule=rule, Targets=[{"Id": "f", "Arn": fn}]),
                     "LimitExceededException", 400, TOO_MANY_TARGETS)
        events.put_targets(Rule=rule, Targets=[{"Id": "e", "Arn": fn, "Input": "{}"}])

        # DeleteRule is refused while targets remain (recorded), and the rule stays.
        expect_error(lambda: events.delete_rule(Name=rule), "ValidationException", 400, RULE_HAS_TARGETS)
        assert events.describe_rule(Name=rule)["Arn"] == arn

        answer = events.remove_targets(Rule=rule, Ids=["a-input", "b-path", "c-transformer", "d", "e"])
        assert without_metadata(answer) == {"FailedEntryCount": 0, "FailedEntries": []}
        assert events.list_targets_by_rule(Rule=rule)["Targets"] == []
        events.delete_rule(Name=rule)
        expect_error(lambda: events.describe_rule(Name=rule), "ResourceNotFoundException", 400, rule_not_found(rule))
    finally:
        sqs.delete_queue(QueueUrl=dlq_url)


def test_target_errors(events, eb):
    rule, _ = pattern_rule(eb, {"source": ["e2e.target-errors"]})
    fn = function_arn(name("fn"))
    missing = name("missing")
    expect_error(lambda: events.put_targets(Rule=missing, Targets=[{"Id": "t", "Arn": fn}]),
                 "ResourceNotFoundException", 400, rule_not_found(missing))
    expect_error(lambda: events.list_targets_by_rule(Rule=missing), "ResourceNotFoundException", 400,
                 rule_not_found(missing))
    expect_error(lambda: events.remove_targets(Rule=missing, Ids=["t"]), "ResourceNotFoundException", 400,
                 rule_not_found(missing))
    expect_error(lambda: events.put_targets(Rule=rule, Targets=[{"Id": "both", "Arn": fn, "Input": "{}",
                                                                 "InputPath": "$.detail"}]),
                 "ValidationException", 400, only_one_input("both"))
    expect_error(lambda: events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": fn, "InputTransformer": {
        "InputPathsMap": {"state": "$.detail.state"}, "InputTemplate": '{"state": <notdefinedkey>}'}}]),
        "ValidationException", 400, invalid_placeholder("t", "notdefinedkey"))
    # Recorded: the model's constraint on target ids, checked by the service.
    expect_error(lambda: events.put_targets(Rule=rule, Targets=[{"Id": "!@#$@!#$", "Arn": fn}]),
                 "ValidationException", 400,
                 "1 validation error detected: Value '!@#$@!#$' at 'targets.1.member.id' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+")
    expect_error(lambda: events.put_targets(Rule=rule, Targets=[{"Id": f"t{i}", "Arn": fn} for i in range(6)]),
                 "LimitExceededException", 400, TOO_MANY_TARGETS)
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == [], "a refused PutTargets keeps nothing"


def test_list_rule_names_by_target(events, eb):
    target = function_arn(name("fn"))
    prefix = name("byt")
    names = [f"{prefix}-{i}" for i in range(5)]
    for rule in names:
        pattern_rule(eb, {"source": ["e2e.byt"]}, rule=rule)
        events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": target}])
    other, _ = pattern_rule(eb, {"source": ["e2e.byt"]})
    events.put_targets(Rule=other, Targets=[{"Id": "t", "Arn": function_arn(name("other"))}])

    assert events.list_rule_names_by_target(TargetArn=target)["RuleNames"] == names
    pages, token = [], None
    for _ in range(10):
        params = {"TargetArn": target, "Limit": 2, **({"NextToken": token} if token else {})}
        page = events.list_rule_names_by_target(**params)
        pages.append(page["RuleNames"])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [names[0:2], names[2:4], names[4:5]]
    assert events.list_rule_names_by_target(TargetArn=function_arn(name("nobody")))["RuleNames"] == []

    # Per bus: a rule on a custom bus is listed with its bus only.
    bus = eb.bus()
    on_bus, _ = pattern_rule(eb, {"source": ["e2e.byt"]}, bus=bus)
    events.put_targets(Rule=on_bus, EventBusName=bus, Targets=[{"Id": "t", "Arn": target}])
    assert events.list_rule_names_by_target(TargetArn=target, EventBusName=bus)["RuleNames"] == [on_bus]
    assert on_bus not in events.list_rule_names_by_target(TargetArn=target)["RuleNames"]


# ------------------------------------------------------------------------------------------
# Buses and tags
# ------------------------------------------------------------------------------------------


def test_event_buses(events, eb):
    bus = name("bus")
    created = without_metadata(events.create_event_bus(Name=bus, Description="orders bus"))
    eb.track_bus(bus)
    assert created == {"EventBusArn": bus_arn(bus), "Description": "orders bus"}

    described = without_metadata(events.describe_event_bus(Name=bus))
    assert set(described) == {"Name", "Arn", "Description", "CreationTime", "LastModifiedTime"}, described
    assert (described["Name"], described["Arn"], described["Description"]) == (bus, bus_arn(bus), "orders bus")
    assert isinstance(described["CreationTime"], datetime.datetime)
    assert abs(described["CreationTime"].timestamp() - time.time()) < 300
    assert events.describe_event_bus(Name=bus_arn(bus))["Name"] == bus, "a bus is named by name or ARN"

    listed = events.list_event_buses(NamePrefix=bus)["EventBuses"]
    assert len(listed) == 1 and set(listed[0]) == {"Name", "Arn", "Description", "CreationTime", "LastModifiedTime"}
    assert (listed[0]["Name"], listed[0]["Arn"]) == (bus, bus_arn(bus))

    expect_error(lambda: events.create_event_bus(Name=bus), "ResourceAlreadyExistsException", 400,
                 f"Event bus {bus} already exists.")

    default = without_metadata(events.describe_event_bus())
    assert (default["Name"], default["Arn"]) == ("default", bus_arn("default"))
    assert "default" in [b["Name"] for b in events.list_event_buses(NamePrefix="default")["EventBuses"]]
    expect_error(lambda: events.delete_event_bus(Name="default"), "ValidationException", 400,
                 "Cannot delete event bus default.")

    missing = name("nobus")
    expect_error(lambda: events.describe_event_bus(Name=missing), "ResourceNotFoundException", 400,
                 bus_not_found(missing))
    events.delete_event_bus(Name=missing)  # recorded: deleting a bus that does not exist succeeds
    expect_error(lambda: events.list_rules(EventBusName=missing), "ResourceNotFoundException", 400, contains=missing)

    # Pages of buses.
    prefix = name("buses")
    for i in range(5):
        events.create_event_bus(Name=f"{prefix}-{i}")
        eb.track_bus(f"{prefix}-{i}")
    first = events.list_event_buses(NamePrefix=prefix, Limit=3)
    assert [b["Name"] for b in first["EventBuses"]] == [f"{prefix}-{i}" for i in range(3)] and first.get("NextToken")
    rest = events.list_event_buses(NamePrefix=prefix, Limit=3, NextToken=first["NextToken"])
    assert [b["Name"] for b in rest["EventBuses"]] == [f"{prefix}-3", f"{prefix}-4"] and "NextToken" not in rest

    events.delete_event_bus(Name=bus)
    assert events.list_event_buses(NamePrefix=bus)["EventBuses"] == []
    expect_error(lambda: events.describe_event_bus(Name=bus), "ResourceNotFoundException", 400, bus_not_found(bus))


def test_tags_on_rules_and_buses(events, eb):
    def tags_of(arn):
        return sorted(events.list_tags_for_resource(ResourceARN=arn)["Tags"], key=lambda t: t["Key"])

    rule, arn = pattern_rule(eb, {"source": ["e2e.tags"]}, Tags=[{"Key": "team", "Value": "orders"}])
    assert tags_of(arn) == [{"Key": "team", "Value": "orders"}]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "billing"}])
    assert tags_of(arn) == [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "billing"}]
    events.untag_resource(ResourceARN=arn, TagKeys=["team", "not-there"])
    assert tags_of(arn) == [{"Key": "env", "Value": "test"}]

    bus = eb.bus(Tags=[{"Key": "tier", "Value": "gold"}])
    assert tags_of(bus_arn(bus)) == [{"Key": "tier", "Value": "gold"}]
    events.untag_resource(ResourceARN=bus_arn(bus), TagKeys=["tier"])
    assert tags_of(bus_arn(bus)) == []
    on_bus, on_bus_arn = pattern_rule(eb, {"source": ["e2e.tags"]}, bus=bus, Tags=[{"Key": "k", "Value": "v"}])
    assert on_bus_arn == rule_arn(on_bus, bus)
    assert tags_of(on_bus_arn) == [{"Key": "k", "Value": "v"}]

    # A rule deleted and created again has no tags (recorded).
    events.delete_rule(Name=rule)
    pattern_rule(eb, {"source": ["e2e.tags"]}, rule=rule)
    assert tags_of(arn) == []

    missing_rule, missing_bus = name("norule"), name("nobus")
    for arn_, message in [(rule_arn(missing_rule), rule_not_found(missing_rule)),
                          (bus_arn(missing_bus), bus_not_found(missing_bus))]:
        expect_error(lambda: events.list_tags_for_resource(ResourceARN=arn_), "ResourceNotFoundException", 400, message)
        expect_error(lambda: events.tag_resource(ResourceARN=arn_, Tags=[{"Key": "a", "Value": "b"}]),
                     "ResourceNotFoundException", 400, message)
        expect_error(lambda: events.untag_resource(ResourceARN=arn_, TagKeys=["a"]), "ResourceNotFoundException", 400,
                     message)


# ------------------------------------------------------------------------------------------
# PutEvents
# ------------------------------------------------------------------------------------------


def test_put_events_answers_entry_by_entry(events):
    entries = [
        entry("e2e.put", "Ok", {"n": 1}),
        {"DetailType": "NoSource", "Detail": "{}"},
        {"Source": "e2e.put", "Detail": "{}"},
        {"Source": "e2e.put", "DetailType": "NoDetail"},
        {"Source": "e2e.put", "DetailType": "Malformed", "Detail": "not json"},
        {"Source": "e2e.put", "DetailType": "Array", "Detail": '["an", "array"]'},
        {"Source": "e2e.put", "DetailType": "String", "Detail": '"a serialized string"'},
        entry("e2e.put", "Ok", {"n": 2}, Time=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
              Resources=["arn:aws:s3:::bucket"]),
        # Recorded: an entry for a bus that does not exist is accepted (and goes nowhere).
        entry("e2e.put", "Ok", {"n": 3}, EventBusName=name("nobus")),
    ]
    answer = events.put_events(Entries=entries)
    got = answer["Entries"]
    assert len(got) == len(entries), answer
    assert answer["FailedEntryCount"] == 6, answer
    source_required = {"ErrorCode": "InvalidArgument",
                       "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."}
    detail_type_required = {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument."}
    detail_required = {"ErrorCode": "InvalidArgument",
                       "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument."}
    malformed = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert got[1:7] == [source_required, detail_type_required, detail_required, malformed, malformed, malformed], got
    ids = [got[0].get("EventId"), got[7].get("EventId"), got[8].get("EventId")]
    assert all(i and UUID_RE.match(i) for i in ids) and len(set(ids)) == 3, got
    assert set(got[0]) == {"EventId"}, got[0]

    # At most ten entries (the model's constraint, checked by the service: botocore does not check list lengths).
    error = expect_error(lambda: events.put_events(Entries=[entry("e2e.put", "Ok", {"n": i}) for i in range(11)]),
                         "ValidationException", 400, message_startswith="1 validation error detected: Value '")
    assert error["Error"]["Message"].endswith(
        "at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10"), error


# ------------------------------------------------------------------------------------------
# Delivery to functions
# ------------------------------------------------------------------------------------------


def test_pattern_rule_delivers_exactly_the_matching_events(events, eb, lam, functions, tmp_path, endpoint):
    matched_dir, all_dir = make_out_dir(tmp_path, "matched"), make_out_dir(tmp_path, "all")
    matched_fn, all_fn = recorder(functions, matched_dir), recorder(functions, all_dir)
    pattern = {
        "source": ["e2e.shop"],
        "detail-type": ["Order Placed"],
        "detail": {
            "amount": [{"numeric": [">=", 100, "<", 1000]}],
            "country": [{"prefix": "de-"}, "fr"],
            "channel": [{"anything-but": ["test", "staging"]}],
            "coupon": [{"exists": False}],
        },
    }
    rule, arn = pattern_rule(eb, pattern)
    deliver_to(events, lam, matched_fn, rule, arn)
    # Every event of this test, to know when all of them have been routed.
    everything, everything_arn = pattern_rule(eb, {"source": [{"prefix": "e2e.shop"}]})
    deliver_to(events, lam, all_fn, everything, everything_arn)

    good = {"amount": 100, "country": "de-berlin", "channel": "web"}
    cases = [
        ("e2e.shop", "Order Placed", good, True),
        ("e2e.shop", "Order Placed", {**good, "amount": 99}, False),
        ("e2e.shop", "Order Placed", {**good, "amount": 1000}, False),
        ("e2e.shop", "Order Placed", {**good, "amount": 999.5, "country": "fr", "channel": "app"}, True),
        ("e2e.shop", "Order Placed", {**good, "country": "es"}, False),
        ("e2e.shop", "Order Placed", {**good, "channel": "test"}, False),
        ("e2e.shop", "Order Placed", {**good, "coupon": "SPRING"}, False),
        ("e2e.shop", "Order Cancelled", good, False),
        ("e2e.shop.other", "Order Placed", good, False),
        ("e2e.shop", "Order Placed", {"amount": 500, "country": "de-hamburg"}, False),  # anything-but needs the field
        ("e2e.shop", "Order Placed", {**good, "amount": "500"}, False),  # a string is not a number
        ("e2e.shop", "Order Placed", {**good, "amount": 100.0, "country": "de-"}, True),
    ]
    entries = [entry(source, detail_type, {**detail, "n": n}, Resources=[f"arn:aws:e2e:::order/{n}"])
               for n, (source, detail_type, detail, _) in enumerate(cases)]
    ids = put_events(events, entries[:10]) + put_events(events, entries[10:])
    expected = sorted(n for n, case in enumerate(cases) if case[3])

    wait_for_events(all_dir, lambda got: len(got) >= len(cases), what="every event through the catch-all rule")
    wait_for_events(matched_dir, lambda got: len(got) >= len(expected), what="the matching events")
    settle(endpoint, matched_fn)
    settle(endpoint, all_fn)
    delivered = received_events(matched_dir)
    assert sorted(e["detail"]["n"] for e in delivered) == expected, "exactly the matching events, each once"
    assert sorted(e["detail"]["n"] for e in received_events(all_dir)) == list(range(len(cases)))

    for event in delivered:
        n = event["detail"]["n"]
        source, detail_type, detail, _ = cases[n]
        assert_event_shape(event, source, detail_type, {**detail, "n": n}, event_id=ids[n],
                           resources=[f"arn:aws:e2e:::order/{n}"])
        assert abs(event_time(event["time"]) - time.time()) < 300, event["time"]


def test_custom_buses_are_separate(events, eb, lam, functions, tmp_path, endpoint):
    default_dir, custom_dir = make_out_dir(tmp_path, "default"), make_out_dir(tmp_path, "custom")
    default_fn, custom_fn = recorder(functions, default_dir), recorder(functions, custom_dir)
    bus = eb.bus()
    pattern = {"source": ["e2e.separate"]}
    on_default, on_default_arn = pattern_rule(eb, pattern)
    on_bus, on_bus_arn = pattern_rule(eb, pattern, bus=bus)
    assert on_bus_arn == rule_arn(on_bus, bus)
    deliver_to(events, lam, default_fn, on_default, on_default_arn)
    deliver_to(events, lam, custom_fn, on_bus, on_bus_arn, bus=bus)

    put_events(events, [
        entry("e2e.separate", "t", {"n": 1}),
        entry("e2e.separate", "t", {"n": 2}, EventBusName=bus),
        entry("e2e.separate", "t", {"n": 3}, EventBusName=bus_arn(bus)),
        entry("e2e.separate", "t", {"n": 4}, EventBusName="default"),
    ])
    wait_for_events(default_dir, lambda got: len(got) >= 2, what="the default bus's events")
    wait_for_events(custom_dir, lambda got: len(got) >= 2, what="the custom bus's events")
    settle(endpoint, default_fn)
    settle(endpoint, custom_fn)
    assert sorted(e["detail"]["n"] for e in received_events(default_dir)) == [1, 4]
    assert sorted(e["detail"]["n"] for e in received_events(custom_dir)) == [2, 3]

    # A rule is found on its bus only.
    expect_error(lambda: events.describe_rule(Name=on_bus), "ResourceNotFoundException", 400, rule_not_found(on_bus))
    described = events.describe_rule(Name=on_bus, EventBusName=bus)
    assert (described["EventBusName"], described["Arn"]) == (bus, on_bus_arn)
    assert events.describe_rule(Name=on_bus, EventBusName=bus_arn(bus))["Arn"] == on_bus_arn
    assert [r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]] == [on_bus]
    # The same name on two buses is two rules.
    same, same_arn = pattern_rule(eb, pattern, bus=bus, rule=on_default)
    assert same_arn == rule_arn(on_default, bus) != on_default_arn


def test_input_path_and_input_transformers_deliver_what_aws_does(events, eb, lam, functions, out_dir, endpoint):
    fn = recorder(functions, out_dir)
    rule, arn = pattern_rule(eb, {"source": ["e2e.transform"]})
    allow(lam, fn, EVENTS_PRINCIPAL, arn)
    paths = {"userId": "$.detail.payload.acc_id", "payload": "$.detail.payload", "listmulti": "$.detail.listmulti",
             "valid": "$.detail.valid", "detailType": "$.detail-type", "missing": "$.detail.not-in-the-event"}
    targets = [
        {"Id": "whole", "Arn": function_arn(fn)},
        {"Id": "constant", "Arn": function_arn(fn), "Input": '{"kind": "constant", "list": [1, 2]}'},
        {"Id": "path", "Arn": function_arn(fn), "InputPath": "$.detail.payload"},
        {"Id": "json", "Arn": function_arn(fn), "InputTransformer": {"InputPathsMap": paths, "InputTemplate":
            '{"kind": "json", "path": "users-service/users/<userId>", "id": <userId>, "body": <payload>, '
            '"list": <listmulti>, "valid": <valid>, "rule": "<aws.events.rule-name>", "arn": "<aws.events.rule-arn>", '
            '"original": <aws.events.event.json>}'}},
        {"Id": "text", "Arn": function_arn(fn), "InputTransformer": {"InputPathsMap": paths, "InputTemplate":
            '"kind text: <detailType> for <userId><missing>, valid <valid>"'}},
    ]
    assert events.put_targets(Rule=rule, Targets=targets)["FailedEntryCount"] == 0
    [event_id] = put_events(events, [entry("e2e.transform", "Account Updated", DETAIL)])

    got = wait_for_events(out_dir, lambda got: len(got) >= 5, what="the five targets' payloads")
    settle(endpoint, fn)
    got = received_events(out_dir)
    assert len(got) == 5, got
    whole = [g for g in got if isinstance(g, dict) and "detail-type" in g]
    constant = [g for g in got if isinstance(g, dict) and g.get("kind") == "constant"]
    json_kind = [g for g in got if isinstance(g, dict) and g.get("kind") == "json"]
    text = [g for g in got if isinstance(g, str)]
    path = [g for g in got if isinstance(g, dict) and set(g) == {"acc_id", "sf_id"}]
    assert (len(whole), len(constant), len(json_kind), len(text), len(path)) == (1, 1, 1, 1, 1), got

    assert_event_shape(whole[0], "e2e.transform", "Account Updated", DETAIL, event_id=event_id)
    assert constant[0] == {"kind": "constant", "list": [1, 2]}
    assert path[0] == DETAIL["payload"]
    # Recorded outputs: a string value placed without quotes becomes a JSON string, objects, arrays and booleans stay
    # JSON; predefined variables; <aws.events.event.json> is the whole event.
    original = json_kind[0].pop("original")
    assert json_kind[0] == {"kind": "json", "path": "users-service/users/0a787ecb-4015", "id": "0a787ecb-4015",
                            "body": DETAIL["payload"], "list": ["ACTIVE", "INACTIVE"], "valid": True, "rule": rule,
                            "arn": arn}
    assert original == whole[0]
    # Recorded: a template that is a JSON string is delivered as that string; a path that matches nothing is empty.
    assert text[0] == "kind text: Account Updated for 0a787ecb-4015, valid true"


def test_undeliverable_events_go_to_the_dead_letter_queue(events, eb, lam, functions, sqs, out_dir, endpoint):
    """EventBridge needs the function's resource policy to allow it (add-permission); without it the event is not
    delivered and, with a dead-letter queue, lands there with RULE_ARN, TARGET_ARN and ERROR_CODE attributes (AWS's
    "Using dead-letter queues" page: permission errors are not retried)."""
    fn = recorder(functions, out_dir)
    rule, arn = pattern_rule(eb, {"source": ["e2e.dlq"]})
    dlq_url = sqs.create_queue(QueueName=name("dlq"))["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": EVENTS_PRINCIPAL}, "Action": "sqs:SendMessage", "Resource": dlq,
        "Condition": {"ArnEquals": {"aws:SourceArn": arn}}}]}
    sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={"Policy": json.dumps(policy)})
    try:
        events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": function_arn(fn), "DeadLetterConfig": {"Arn": dlq},
                                                "RetryPolicy": {"MaximumRetryAttempts": 0}}])
        dead = []

        def dead_letters(count):
            for m in sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                         MessageAttributeNames=["All"]).get("Messages", []):
                dead.append(m)
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
            return len(dead) >= count

        # No permission at all, then a permission for another rule only: both undeliverable.
        [first] = put_events(events, [entry("e2e.dlq", "t", {"n": 1})])
        poll(lambda: dead_letters(1), timeout=30, interval=0.1, what="the first event in the dead-letter queue")
        allow(lam, fn, EVENTS_PRINCIPAL, rule_arn(name("another-rule")))
        [second] = put_events(events, [entry("e2e.dlq", "t", {"n": 2})])
        poll(lambda: dead_letters(2), timeout=30, interval=0.1, what="the second event in the dead-letter queue")
        settle(endpoint, fn)
        assert received_events(out_dir) == [], "the function must not run without EventBridge's permission"

        for message, event_id, n in zip(dead, [first, second], [1, 2]):
            body = json.loads(message["Body"])
            assert_event_shape(body, "e2e.dlq", "t", {"n": n}, event_id=event_id)
            attributes = {k: v.get("StringValue") for k, v in message.get("MessageAttributes", {}).items()}
            assert attributes.get("RULE_ARN") == arn, attributes
            assert attributes.get("TARGET_ARN") == function_arn(fn), attributes
            assert attributes.get("ERROR_CODE"), attributes

        # With the permission for this rule, the next event is delivered.
        allow(lam, fn, EVENTS_PRINCIPAL, arn)
        [third] = put_events(events, [entry("e2e.dlq", "t", {"n": 3})])
        got = wait_for_events(out_dir, lambda got: len(got) >= 1, what="the event once permitted")
        assert [e["id"] for e in got] == [third]
    finally:
        sqs.delete_queue(QueueUrl=dlq_url)


def test_lambda_destinations_on_an_event_bus(events, eb, lam, functions, out_dir, endpoint):
    """Lambda's asynchronous destinations may be a bus: the invocation record arrives as an event with source
    `lambda` (recorded: TestLambdaDestinationEventbridge, aws-recorded test_lambda_destinations)."""
    fn = recorder(functions, out_dir)
    bus = eb.bus()
    rule, arn = pattern_rule(eb, {"source": ["lambda"]}, bus=bus)
    deliver_to(events, lam, fn, rule, arn, bus=bus)
    source_fn = functions.python(
        "def handler(event, context):\n"
        "    if event.get('mode') == 'failure':\n"
        "        raise Exception('intentional failure!')\n"
        "    return {'hello': 'world', 'val': 5}\n")
    lam.put_function_event_invoke_config(FunctionName=source_fn, MaximumRetryAttempts=0, DestinationConfig={
        "OnSuccess": {"Destination": bus_arn(bus)}, "OnFailure": {"Destination": bus_arn(bus)}})
    for mode in ("success", "failure"):
        assert lam.invoke(FunctionName=source_fn, InvocationType="Event",
                          Payload=json.dumps({"mode": mode}).encode())["StatusCode"] == 202

    got = wait_for_events(out_dir, lambda got: len(got) >= 2, timeout=60, what="both destination events")
    settle(endpoint, fn)
    by_type = {e["detail-type"]: e for e in received_events(out_dir)}
    assert set(by_type) == {"Lambda Function Invocation Result - Success",
                            "Lambda Function Invocation Result - Failure"}, got
    qualified = f"{function_arn(source_fn)}:$LATEST"
    for detail_type, condition in [("Lambda Function Invocation Result - Success", "Success"),
                                   ("Lambda Function Invocation Result - Failure", "RetriesExhausted")]:
        event = by_type[detail_type]
        assert set(event) == EVENT_KEYS, sorted(event)
        assert (event["source"], event["account"], event["region"], event["version"]) == \
            ("lambda", ACCOUNT, REGION, "0")
        detail = event["detail"]
        assert detail["version"] == "1.0" and detail["timestamp"], detail
        context = detail["requestContext"]
        assert (context["condition"], context["functionArn"], context["approximateInvokeCount"]) == \
            (condition, qualified, 1), context
        assert UUID_RE.match(context["requestId"]), context
        assert detail["responseContext"]["statusCode"] == 200
        assert detail["responseContext"]["executedVersion"] == "$LATEST"
    success, failure = (by_type[f"Lambda Function Invocation Result - {k}"]["detail"] for k in ("Success", "Failure"))
    assert success["requestPayload"] == {"mode": "success"}
    assert success["responsePayload"] == {"hello": "world", "val": 5}
    assert "functionError" not in success["responseContext"]
    assert failure["requestPayload"] == {"mode": "failure"}
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responsePayload"]["errorMessage"] == "intentional failure!"
    assert failure["responsePayload"]["errorType"] == "Exception"
    # Recorded on AWS: the bus's ARN and the function's (in either order).
    for event in by_type.values():
        assert sorted(event["resources"]) == sorted([bus_arn(bus), qualified]), event["resources"]


# ------------------------------------------------------------------------------------------
# The AWS CLI
# ------------------------------------------------------------------------------------------


def test_eventbridge_with_the_aws_cli(aws, lam, functions, out_dir, endpoint, tmp_path):
    fn = recorder(functions, out_dir)
    bus, rule = name("clibus"), name("clirule")

    def run(*args):
        return json.loads(aws("events", *args).stdout or "{}")

    def fails(*args):
        proc = aws("events", *args, check=False)
        assert proc.returncode != 0, proc.stdout
        return proc.stderr

    try:
        assert run("create-event-bus", "--name", bus)["EventBusArn"] == bus_arn(bus)
        pattern = '{"source": ["e2e.cli"], "detail": {"kind": [{"prefix": "order"}]}}'
        arn = run("put-rule", "--name", rule, "--event-bus-name", bus, "--event-pattern", pattern,
                  "--description", "from the CLI")["RuleArn"]
        assert arn == rule_arn(rule, bus)
        described = run("describe-rule", "--name", rule, "--event-bus-name", bus)
        assert (described["Name"], described["Arn"], described["State"], described["Description"]) == \
            (rule, arn, "ENABLED", "from the CLI")
        assert [r["Name"] for r in run("list-rules", "--event-bus-name", bus, "--name-prefix", rule)["Rules"]] == [rule]

        aws("lambda", "add-permission", "--function-name", fn, "--statement-id", "events", "--action",
            "lambda:InvokeFunction", "--principal", EVENTS_PRINCIPAL, "--source-arn", arn)
        targets = json.dumps([{"Id": "recorder", "Arn": function_arn(fn), "InputPath": "$.detail"}])
        assert run("put-targets", "--rule", rule, "--event-bus-name", bus, "--targets", targets) == \
            {"FailedEntryCount": 0, "FailedEntries": []}
        listed = run("list-targets-by-rule", "--rule", rule, "--event-bus-name", bus)["Targets"]
        assert listed == [{"Id": "recorder", "Arn": function_arn(fn), "InputPath": "$.detail"}]
        assert run("list-rule-names-by-target", "--target-arn", function_arn(fn), "--event-bus-name", bus)[
            "RuleNames"] == [rule]

        event = {"id": "1", "account": ACCOUNT, "source": "e2e.cli", "time": "2024-01-01T00:00:00Z",
                 "region": REGION, "resources": [], "detail-type": "t", "detail": {"kind": "order-42"}}
        assert run("test-event-pattern", "--event-pattern", pattern, "--event", json.dumps(event)) == {"Result": True}

        entries = tmp_path / "entries.json"
        entries.write_text(json.dumps([
            {"Source": "e2e.cli", "DetailType": "t", "Detail": json.dumps({"kind": "order-1"}), "EventBusName": bus},
            {"Source": "e2e.cli", "DetailType": "t", "Detail": json.dumps({"kind": "refund-1"}), "EventBusName": bus},
        ]))
        put = run("put-events", "--entries", f"file://{entries}")
        assert put["FailedEntryCount"] == 0 and len(put["Entries"]) == 2, put
        wait_for_events(out_dir, lambda got: len(got) >= 1, what="the CLI's event")
        settle(endpoint, fn)
        assert received_events(out_dir) == [{"kind": "order-1"}]

        run("disable-rule", "--name", rule, "--event-bus-name", bus)
        assert run("describe-rule", "--name", rule, "--event-bus-name", bus)["State"] == "DISABLED"
        run("enable-rule", "--name", rule, "--event-bus-name", bus)
        run("tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=cli")
        assert run("list-tags-for-resource", "--resource-arn", arn)["Tags"] == [{"Key": "team", "Value": "cli"}]

        stderr = fails("delete-rule", "--name", rule, "--event-bus-name", bus)
        assert "ValidationException" in stderr and RULE_HAS_TARGETS in stderr, stderr
        stderr = fails("put-rule", "--name", name("bad"), "--schedule-expression", "rate(10 seconds)")
        assert "ValidationException" in stderr and BAD_SCHEDULE_EXPRESSION in stderr, stderr
        stderr = fails("put-rule", "--name", name("bad"), "--event-pattern", '{"source": "not-a-list"}')
        assert "InvalidEventPatternException" in stderr, stderr

        assert run("remove-targets", "--rule", rule, "--event-bus-name", bus, "--ids", "recorder") == \
            {"FailedEntryCount": 0, "FailedEntries": []}
        run("delete-rule", "--name", rule, "--event-bus-name", bus)
        stderr = fails("describe-rule", "--name", rule, "--event-bus-name", bus)
        assert "ResourceNotFoundException" in stderr and rule_not_found(rule, bus) in stderr, stderr
        run("delete-event-bus", "--name", bus)
        stderr = fails("describe-event-bus", "--name", bus)
        assert "ResourceNotFoundException" in stderr and bus_not_found(bus) in stderr, stderr
    finally:
        aws("events", "remove-targets", "--rule", rule, "--event-bus-name", bus, "--ids", "recorder", check=False)
        aws("events", "delete-rule", "--name", rule, "--event-bus-name", bus, check=False)
        aws("events", "delete-event-bus", "--name", bus, check=False)


# ------------------------------------------------------------------------------------------
# Durability
# ------------------------------------------------------------------------------------------


def test_kill_9_loses_no_acknowledged_event(tmp_path):
    """Every event PutEvents acknowledged reaches the function after a kill -9 and a restart (at least once: the
    asynchronous queue may run again an event that was running when the process died)."""
    data_dir, out_dir = str(tmp_path / "data"), make_out_dir(tmp_path)
    server = RestartableServer(
        data_dir, "--async-retry-base", "0.2", "--async-throttle-base", "0.05", "--async-throttle-max", "0.2")
    server.start()
    try:
        lam, events = client(server.endpoint, "lambda"), client(server.endpoint, "events")
        fn = unique("ebcrash")
        lam.create_function(FunctionName=fn, Runtime=helpers.PY, Role=helpers.ROLE, Handler="app.handler", Timeout=30,
                            Code={"ZipFile": helpers.py_zip(RECORDER_SOURCE)},
                            Environment={"Variables": {"OUT_DIR": out_dir, "DELAY": "0.2"}})
        # At most ten invocations a second, so that acknowledged events wait when the server is killed.
        lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=2)
        rule = name("crash")
        arn = events.put_rule(Name=rule, EventPattern='{"source": ["e2e.crash"]}')["RuleArn"]
        allow(lam, fn, EVENTS_PRINCIPAL, arn)
        events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": function_arn(fn)}])

        acknowledged = {}
        lock = threading.Lock()
        stop = threading.Event()

        def sender(worker):
            own = client(server.endpoint, "events")
            for batch in range(10):  # at most 100 events a sender: the restart then delivers them in seconds
                if stop.is_set():
                    return
                entries = [entry("e2e.crash", "t", {"key": f"{worker}-{batch}-{i}"}) for i in range(10)]
                try:
                    answer = own.put_events(Entries=entries)
                except Exception:  # the server is gone: an unacknowledged PutEvents may or may not have happened
                    return
                with lock:
                    for e, result in zip(entries, answer["Entries"]):
                        if "EventId" in result:
                            acknowledged[json.loads(e["Detail"])["key"]] = result["EventId"]

        def delivered():
            return {e["detail"]["key"] for e in received_events(out_dir)}

        with ThreadPoolExecutor(max_workers=3) as pool:
            for worker in range(3):
                pool.submit(sender, worker)

            def backlog():
                with lock:
                    count = len(acknowledged)
                return count >= 100 and count - len(delivered()) >= 30

            poll(backlog, timeout=40, interval=0.02, what="100 acknowledged events, 30 of them not yet delivered")
            server.kill9()
            stop.set()
        want = set(acknowledged)
        before = delivered()

        server.start()
        try:
            poll(lambda: (lambda d: d if want <= d else None)(delivered()), timeout=60, interval=0.25,
                 what="every acknowledged event")
        except AssertionError:
            missing = want - delivered()
            raise AssertionError(f"{len(missing)} of {len(want)} acknowledged events never reached the function, "
                                 f"e.g. {sorted(missing)[:5]}") from None
        keys = [e["detail"]["key"] for e in received_events(out_dir)]
        print(f"\nEventBridge kill -9: {len(want)} events acknowledged, {len(before & want)} delivered before the "
              f"kill, all after the restart; {len(keys) - len(set(keys))} duplicate deliveries")
        assert len(before & want) < len(want), "every event ran before the kill: nothing was tested"
        ids = {e["detail"]["key"]: e["id"] for e in received_events(out_dir)}
        assert all(ids[k] == acknowledged[k] for k in want), "each delivered event keeps the id PutEvents answered"
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------
# examples/cron-report: a function run every minute by a rule (the one slow test)
# ------------------------------------------------------------------------------------------


def _log_messages(logs, group):
    messages, token = [], None
    for _ in range(100):  # bounded
        params = {"logGroupName": group, **({"nextToken": token} if token else {})}
        try:
            page = logs.filter_log_events(**params)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return []
            raise
        messages += [e["message"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    return messages


def _runs(logs, function):
    """The Scheduled Events the example's function logged (its `event {...}` lines)."""
    runs = []
    for message in _log_messages(logs, f"/aws/lambda/{function}"):
        text = message.strip()
        if text.startswith("event {"):
            runs.append(json.loads(text[len("event "):]))
    return runs


def test_cron_report_example_fires_every_minute(endpoint, lam, logs, events, cli_env, tmp_path):
    """examples/cron-report as its README says: deploy.sh (AWS CLI only), then the rate(1 minute) rule runs the
    function every minute with the Scheduled Event; its report is in its logs (`aws logs tail`)."""
    # This test waits for two firings of a rate(1 minute) rule: up to about two minutes and a half. It is the suite's
    # one test allowed beyond the per-test limit of conftest.py (90 s), which it re-arms for itself.
    signal.alarm(200)
    cli = helpers.aws_cli()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(cli, bin_dir / "aws")  # deploy.sh calls `aws`: the AWS CLI v2 the suite uses
    function, rule = unique("cron-report"), name("every-minute")
    env = dict(cli_env, PATH=f"{bin_dir}:{os.environ.get('PATH', '')}", NIMBUS_ENDPOINT=endpoint,
               FUNCTION_NAME=function, RULE_NAME=rule)
    deployed_at = time.time()
    try:
        deployed = subprocess.run([os.path.join(EXAMPLE, "deploy.sh")], capture_output=True, text=True, env=env,
                                  timeout=120)
        assert deployed.returncode == 0, \
            f"deploy.sh exited {deployed.returncode}:\n{deployed.stdout}\n{deployed.stderr}"
        assert f"logs tail /aws/lambda/{function}" in deployed.stdout, deployed.stdout
        described = events.describe_rule(Name=rule)
        assert (described["ScheduleExpression"], described["State"]) == ("rate(1 minute)", "ENABLED")
        assert [t["Arn"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]] == [function_arn(function)]
        # Running it again updates the function and keeps the rule, its target and the permission.
        again = subprocess.run([os.path.join(EXAMPLE, "deploy.sh")], capture_output=True, text=True, env=env,
                               timeout=120)
        assert again.returncode == 0, f"deploy.sh (again) exited {again.returncode}:\n{again.stdout}\n{again.stderr}"
        assert len(events.list_targets_by_rule(Rule=rule)["Targets"]) == 1

        poll(lambda: _runs(logs, function), timeout=75, interval=0.5, what="the first run in the logs")
        first_seen = time.time()
        print(f"\ncron-report: first run logged {first_seen - deployed_at:.1f} s after deploy.sh started")
        runs = poll(lambda: (lambda r: r if len({e['id'] for e in r}) >= 2 else None)(_runs(logs, function)),
                    timeout=70, interval=0.5, what="the second run in the logs")
        print(f"cron-report: second run logged {time.time() - first_seen:.1f} s after the first")

        # The Scheduled Event, field by field (the list; recorded SQS deliveries of a rate rule).
        for event in runs:
            assert set(event) == EVENT_KEYS, sorted(event)
            assert (event["version"], event["detail-type"], event["source"]) == ("0", "Scheduled Event", "aws.events")
            assert (event["account"], event["region"]) == (ACCOUNT, REGION)
            assert event["resources"] == [rule_arn(rule)]
            assert event["detail"] == {}
            assert UUID_RE.match(event["id"]) and EVENT_TIME_RE.match(event["time"]), event
        times = sorted({event_time(e["time"]) for e in runs})
        assert len(times) == len(runs), f"two runs for the same scheduled time: {runs}"
        assert 59 <= times[1] - times[0] <= 61, f"rate(1 minute) fired at {[e['time'] for e in runs]}"
        assert times[0] >= deployed_at - 61, "the first run is for a time after the rule was created"

        # The README's way to read the report.
        tail = helpers.run_cmd([cli, "logs", "tail", f"/aws/lambda/{function}", "--since", "10m", "--endpoint-url",
                                endpoint], env=cli_env)
        assert tail.returncode == 0, tail.stderr
        assert "cron-report " in tail.stdout, tail.stdout[-2000:]
        reports = [json.loads(m.strip()[len("cron-report "):]) for m in _log_messages(logs, f"/aws/lambda/{function}")
                   if m.strip().startswith("cron-report ")]
        assert reports and all(r["rule"] == rule_arn(rule) and r["functions"] >= 1 for r in reports), reports
    finally:
        for call in (lambda: events.remove_targets(Rule=rule, Ids=[t["Id"] for t in events.list_targets_by_rule(
                         Rule=rule)["Targets"]] or ["none"]),
                     lambda: events.delete_rule(Name=rule),
                     lambda: lam.delete_function(FunctionName=function)):
            try:
                call()
            except Exception:
                pass

"""Helpers of the EventBridge and EventBridge Scheduler end-to-end modules (test_events.py, test_scheduler.py, issue
#15): clients that never retry, rules, buses, schedules and groups that clean up after themselves, a recorder function
whose invocations the test reads back, and AWS's words for the errors these services answer.

What the tests assert is what AWS does: botocore's models (events 2015-10-07, scheduler 2021-06-30), AWS's developer
guides, and answers recorded against real AWS (error messages and payloads quoted below with where they come from).
Every request goes to 127.0.0.1 and every wait is bounded in time and count.
"""

import datetime
import json
import os
import re
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers import ACCOUNT, REGION, poll, raw_request

# The event EventBridge delivers: `version`, `id`, `detail-type`, `source`, `account`, `time`, `region`,
# `resources`, `detail` (AWS's "Amazon EventBridge events" page; recorded deliveries show no other key).
EVENT_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
EVENT_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EVENTS_PRINCIPAL = "events.amazonaws.com"
SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
SCHEDULER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler-invokes-lambda"


def client(endpoint, service, validate=True):
    """boto3's client as a user makes it, never retrying; `validate=False` sends what only the server must refuse."""
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60, connect_timeout=10,
                      parameter_validation=validate))


def name(prefix="r"):
    """A unique rule, bus, schedule or group name (64 characters at most, [.-_A-Za-z0-9])."""
    return f"e2e-{prefix}-{uuid.uuid4().hex[:12]}"


def rule_arn(rule, bus="default"):
    """`rule/<name>` on the default bus, `rule/<bus>/<name>` on a custom one (recorded PutRule answers)."""
    path = rule if bus == "default" else f"{bus}/{rule}"
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{path}"


def bus_arn(bus):
    return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"


def schedule_arn(schedule, group="default"):
    return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{group}/{schedule}"


def group_arn(group):
    return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{group}"


def function_arn(function):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"


# ------------------------------------------------------------------------------------------
# AWS's errors
# ------------------------------------------------------------------------------------------


def rule_not_found(rule, bus="default"):
    """Recorded: DescribeRule, PutTargets, EnableRule, TagResource … of a rule that does not exist."""
    return f"Rule {rule} does not exist on EventBus {bus}."


def bus_not_found(bus):
    """Recorded: DescribeEventBus, TagResource … of a bus that does not exist."""
    return f"Event bus {bus} does not exist."


RULE_HAS_TARGETS = "Rule can't be deleted since it has targets."
BAD_SCHEDULE_EXPRESSION = "Parameter ScheduleExpression is not valid."
SCHEDULE_ONLY_ON_DEFAULT_BUS = "ScheduleExpression is supported only on the default event bus."
TOO_MANY_TARGETS = "The requested resource exceeds the maximum number allowed."
BAD_EVENT = "Parameter Event is not valid."
PATTERN_INVALID_PREFIX = "Event pattern is not valid. Reason: "


def only_one_input(target_id):
    return f"Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}."


def invalid_placeholder(target_id, placeholder):
    return f"InputTemplate for target {target_id} contains invalid placeholder {placeholder}."


def schedule_not_found(schedule):
    """Real AWS (aws-sdk-js-v3#5720, visa_rescheduler_aws#23): `Schedule <name> does not exist.`"""
    return f"Schedule {schedule} does not exist."


def invalid_schedule_expression(expression):
    """Recorded CreateSchedule answers: `Invalid Schedule Expression <expression as sent>.`"""
    return f"Invalid Schedule Expression {expression}."


def expect_error(call, code, status, message=None, message_startswith=None, contains=None):
    """Runs call(), which must raise a ClientError with this code and HTTP status (and message, when given)."""
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response
    got = (error.get("Error", {}).get("Code"), error.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    assert got == (code, status), f"expected {code}/{status}, got {got}: {error.get('Error')}"
    text = error["Error"].get("Message", "")
    if message is not None:
        assert text == message, f"message was {text!r}, expected {message!r}"
    if message_startswith is not None:
        assert text.startswith(message_startswith), f"message was {text!r}, expected it to start {message_startswith!r}"
    if contains is not None:
        assert contains in text, f"message was {text!r}, expected it to contain {contains!r}"
    return error


def without_metadata(response):
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


# ------------------------------------------------------------------------------------------
# Resources that clean up after themselves
# ------------------------------------------------------------------------------------------


class EventResources:
    """Rules (with their targets) and buses a test creates, removed when it ends, whatever state it left them in."""

    def __init__(self, events):
        self.events = events
        self.rules = []  # (rule, bus)
        self.buses = []

    def bus(self, prefix="bus", **kwargs):
        bus = name(prefix)
        self.events.create_event_bus(Name=bus, **kwargs)
        self.buses.append(bus)
        return bus

    def track_bus(self, bus):
        self.buses.append(bus)

    def rule(self, rule=None, bus="default", **kwargs):
        """PutRule; returns (name, ARN as answered)."""
        rule = rule or name("rule")
        params = dict(Name=rule, **kwargs)
        if bus != "default":
            params["EventBusName"] = bus
        arn = self.events.put_rule(**params)["RuleArn"]
        self.rules.append((rule, bus))
        return rule, arn

    def track_rule(self, rule, bus="default"):
        self.rules.append((rule, bus))

    def cleanup(self):
        for rule, bus in reversed(self.rules):
            try:
                ids = [t["Id"] for t in self.events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]]
                if ids:
                    self.events.remove_targets(Rule=rule, EventBusName=bus, Ids=ids)
                self.events.delete_rule(Name=rule, EventBusName=bus)
            except Exception:  # already gone, or the server is gone: the session teardown reports that
                pass
        for bus in self.buses:
            try:
                self.events.delete_event_bus(Name=bus)
            except Exception:
                pass


class SchedulerResources:
    """Schedules and schedule groups a test creates, removed when it ends."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.schedules = []  # (schedule, group)
        self.groups = []

    def group(self, prefix="grp", **kwargs):
        group = name(prefix)
        self.scheduler.create_schedule_group(Name=group, **kwargs)
        self.groups.append(group)
        return group

    def schedule(self, target_arn, expression, schedule=None, group=None, input=None, window=None, **kwargs):
        """CreateSchedule with a Lambda target (RoleArn as AWS requires); returns (name, ARN as answered)."""
        schedule = schedule or name("sch")
        target = {"Arn": target_arn, "RoleArn": SCHEDULER_ROLE}
        if input is not None:
            target["Input"] = input if isinstance(input, str) else json.dumps(input)
        target.update(kwargs.pop("Target", {}))
        params = dict(Name=schedule, ScheduleExpression=expression, Target=target,
                      FlexibleTimeWindow=window or {"Mode": "OFF"}, **kwargs)
        if group:
            params["GroupName"] = group
        arn = self.scheduler.create_schedule(**params)["ScheduleArn"]
        self.schedules.append((schedule, group))
        return schedule, arn

    def cleanup(self):
        for schedule, group in self.schedules:
            try:
                params = {"Name": schedule}
                if group:
                    params["GroupName"] = group
                self.scheduler.delete_schedule(**params)
            except Exception:
                pass
        for group in self.groups:
            try:
                self.scheduler.delete_schedule_group(Name=group)
            except Exception:
                pass


# ------------------------------------------------------------------------------------------
# A function that records what it receives
# ------------------------------------------------------------------------------------------

# One file per invocation in $OUT_DIR (written atomically): the event exactly as received (any JSON: EventBridge
# delivers strings and arrays too when a target's input says so), the wall-clock time it ran and its request id.
RECORDER_SOURCE = r'''
import json, os, time, uuid

def handler(event, context):
    received = time.time()
    out = os.environ["OUT_DIR"]
    path = os.path.join(out, f"{received:.6f}-{uuid.uuid4().hex}.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"event": event, "received": received, "requestId": context.aws_request_id}, f)
    os.rename(path + ".tmp", path)
    delay = float(os.environ.get("DELAY", "0"))
    if delay:
        time.sleep(delay)
    return {"ok": True}
'''


def make_out_dir(root, label="invocations"):
    path = os.path.join(str(root), f"{label}-{uuid.uuid4().hex[:8]}")
    os.makedirs(path)
    os.chmod(path, 0o777)
    return path


def recorder(functions, out_dir, **env):
    """A Python function (process tier: it writes into the test's directory) recording each invocation."""
    variables = {"OUT_DIR": out_dir, **{k: str(v) for k, v in env.items()}}
    return functions.python(RECORDER_SOURCE, Timeout=30, Environment={"Variables": variables})


def recorded(out_dir):
    """Every invocation's record ({"event", "received", "requestId"}), oldest first."""
    records = []
    for entry in sorted(os.listdir(out_dir)):
        if entry.endswith(".json"):
            with open(os.path.join(out_dir, entry)) as f:
                records.append(json.load(f))
    return sorted(records, key=lambda r: r["received"])


def received_events(out_dir):
    return [r["event"] for r in recorded(out_dir)]


def wait_for_events(out_dir, want, timeout=30.0, what="the events"):
    """Polls until `want(events)` holds (events: every payload received so far); returns them."""
    return poll(lambda: (lambda got: got if want(got) else None)(received_events(out_dir)), timeout=timeout,
                interval=0.1, what=what)


def async_idle(endpoint, function):
    """True when Nimbus's asynchronous queue holds no pending or running event of `function` (GET /_nimbus/async)."""
    response = raw_request(endpoint, "GET", "/_nimbus/async")
    if response.status != 200:
        return False
    entry = response.json().get("Functions", {}).get(function)
    return entry is None or (entry.get("Pending", 0) == 0 and entry.get("Running", 0) == 0)


def settle(endpoint, function, timeout=30.0):
    poll(lambda: async_idle(endpoint, function), timeout=timeout, interval=0.1,
         what=f"{function}'s asynchronous queue to drain")


def allow(lam, function, principal, source_arn, statement=None):
    """The resource-policy statement a service needs to invoke the function (`aws lambda add-permission`)."""
    lam.add_permission(FunctionName=function, StatementId=statement or f"allow-{uuid.uuid4().hex[:12]}",
                       Action="lambda:InvokeFunction", Principal=principal, SourceArn=source_arn,
                       SourceAccount=ACCOUNT)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def at_expression(when):
    """`at(yyyy-mm-ddThh:mm:ss)` (no zone suffix: `at(…Z)` is refused, recorded) for a UTC datetime."""
    return f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"


def whole_second_after(seconds):
    """The UTC time `seconds` from now, rounded up to a whole second (at() has no fractions)."""
    when = utc_now() + datetime.timedelta(seconds=seconds)
    return (when + datetime.timedelta(seconds=1)).replace(microsecond=0)


def event_time(text):
    """Seconds since the epoch of an event `time` (`2024-01-02T03:04:05Z`)."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def wait_until(instant, limit=120.0):
    """Waits for a wall-clock instant the scenario needs to pass (a schedule's time while the server is down): not
    a synchronisation, the time itself is what is tested. Bounded."""
    remaining = instant - time.time()
    assert remaining <= limit, f"refusing to wait {remaining:.0f} s"
    if remaining > 0:
        time.sleep(remaining)

"""cron-report: an ordinary Lambda handler that an EventBridge rule runs on a schedule (every minute by default).

Each run receives EventBridge's Scheduled Event (`detail-type` "Scheduled Event", `source` "aws.events", `time` the
scheduled time, `resources` the rule's ARN, `detail` {}), looks at the account's functions with boto3 and logs a
one-line report. Nothing here is Nimbus-specific: the same zip runs on AWS Lambda.
"""

import json

import boto3

# Created once per execution environment and reused by warm invocations. Nimbus, like Lambda, gives the function its
# role's credentials, its region and (Nimbus only) AWS_ENDPOINT_URL, so the client needs no configuration.
lambda_client = boto3.client("lambda")


def handler(event, context):
    functions = []
    for page in lambda_client.get_paginator("list_functions").paginate():
        functions += page["Functions"]
    report = {
        "scheduledTime": event.get("time"),
        "rule": (event.get("resources") or [None])[0],
        "functions": len(functions),
        "codeBytes": sum(f.get("CodeSize", 0) for f in functions),
        "runtimes": sorted({f.get("Runtime") or "image" for f in functions}),
    }
    # One log event per line: the event as received, then the report (`aws logs tail` shows both).
    print("event " + json.dumps(event))
    print("cron-report " + json.dumps(report))
    return report

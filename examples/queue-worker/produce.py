"""Sends orders to the queue, as any producer written for AWS would (boto3, no Nimbus-specific code).

    python3 examples/queue-worker/produce.py [COUNT]

The endpoint comes from AWS_ENDPOINT_URL (default http://127.0.0.1:9000); every tenth order is invalid on purpose.
"""
import json
import os
import sys

import boto3

count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
sqs = boto3.client("sqs", region_name=os.environ.get("AWS_REGION", "us-east-1"))
url = sqs.get_queue_url(QueueName=os.environ.get("QUEUE_NAME", "orders"))["QueueUrl"]
for start in range(0, count, 10):
    entries = []
    for n in range(start, min(start + 10, count)):
        order = {"id": n, "item": "widget", "quantity": 0 if n % 10 == 9 else n % 5 + 1}
        entries.append({"Id": str(n), "MessageBody": json.dumps(order)})
    failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
    if failed:
        sys.exit(f"not sent: {failed}")
print(f"sent {count} orders to {url}")

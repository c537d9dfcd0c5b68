"""A queue consumer for an SQS event source mapping, as it runs on AWS Lambda: each record is an order; an order
whose quantity is not a positive integer fails alone (partial batch response), so only it comes back to the queue,
and after three receives the queue's redrive policy moves it to the dead-letter queue.
"""
import json


def process(order):
    quantity = order.get("quantity")
    if not isinstance(quantity, int) or quantity <= 0:
        raise ValueError(f"order {order.get('id')}: quantity must be a positive integer, got {quantity!r}")
    print(f"order {order['id']}: {quantity} × {order.get('item', '?')}")


def handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            process(json.loads(record["body"]))
        except Exception as error:  # noqa: BLE001 - any failure of one order is that order's
            print(f"failed {record['messageId']}: {error}")
            failures.append({"itemIdentifier": record["messageId"]})
    # With FunctionResponseTypes ["ReportBatchItemFailures"], Lambda deletes every message of the batch but these.
    return {"batchItemFailures": failures}

"""A hello-world Lambda function for the python3.x runtimes."""
import json
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# Module state survives between invocations of the same (warm) execution environment.
invocations = 0


def handler(event, context):
    global invocations
    invocations += 1
    name = (event or {}).get("name", "world")
    logger.info("greeting %s", name)
    return {
        "message": f"Hello, {name}!",
        "requestId": context.aws_request_id,
        "function": context.function_name,
        "memoryMB": context.memory_limit_in_mb,
        "remainingMs": context.get_remaining_time_in_millis(),
        "warmInvocations": invocations,
        "runtime": os.environ.get("AWS_EXECUTION_ENV"),
    }

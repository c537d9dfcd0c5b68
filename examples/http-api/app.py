"""A small JSON API in one Lambda function, served through an API Gateway HTTP API (payload format 2.0).

Routes:
    GET  /items        every item
    GET  /items/{id}   one item, or 404
    POST /items/{id}   creates or replaces an item from a JSON object body with a "name" string (201)

The quick-created API sends every request to this function through its `$default` route, so the function routes by
method and path itself. Items live in module state: they last as long as the warm execution environment that holds
them (a real application would keep them in a database).
"""
import base64
import json
import urllib.parse

ITEMS = {
    "1": {"id": "1", "name": "kettle"},
    "2": {"id": "2", "name": "teapot"},
}


def reply(status, document):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(document)}


def request_body(event):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    return body


def path_segments(event):
    """The path below the stage: a named stage's name is the first segment of rawPath; `$default`'s is not."""
    segments = [urllib.parse.unquote(s) for s in event.get("rawPath", "/").split("/") if s]
    stage = event.get("requestContext", {}).get("stage", "$default")
    if stage != "$default" and segments[:1] == [stage]:
        segments = segments[1:]
    return segments


def handler(event, context):
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    segments = path_segments(event)

    if segments == ["items"]:
        if method != "GET":
            return reply(405, {"message": "Method Not Allowed"})
        return reply(200, {"items": [ITEMS[key] for key in sorted(ITEMS)]})

    if len(segments) == 2 and segments[0] == "items":
        item_id = segments[1]
        if method == "GET":
            item = ITEMS.get(item_id)
            return reply(200, item) if item else reply(404, {"message": f"no item {item_id}"})
        if method == "POST":
            try:
                document = json.loads(request_body(event))
            except ValueError:
                return reply(400, {"message": "the body must be a JSON object"})
            if not isinstance(document, dict) or not isinstance(document.get("name"), str):
                return reply(400, {"message": 'the body must be a JSON object with a "name" string'})
            ITEMS[item_id] = {"id": item_id, "name": document["name"]}
            return reply(201, ITEMS[item_id])
        return reply(405, {"message": "Method Not Allowed"})

    return reply(404, {"message": "Not Found"})

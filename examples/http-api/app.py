"""A small JSON API in one Lambda function, served through an API Gateway HTTP API (payload format 2.0).

Routes (each an API Gateway route with an AWS_PROXY integration to this function):
    GET  /items        every item
    GET  /items/{id}   one item, or 404
    POST /items/{id}   creates or replaces an item from a JSON object body with a "name" string (201)

API Gateway matches the route; the event names it (`routeKey`) and carries the `{id}` (`pathParameters`). Items live
in module state: they last as long as the warm execution environment that holds them (a real application would keep
them in a database).
"""
import base64
import json

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


def list_items(event):
    return reply(200, {"items": [ITEMS[key] for key in sorted(ITEMS)]})


def get_item(event):
    item_id = event["pathParameters"]["id"]
    item = ITEMS.get(item_id)
    return reply(200, item) if item else reply(404, {"message": f"no item {item_id}"})


def put_item(event):
    item_id = event["pathParameters"]["id"]
    try:
        document = json.loads(request_body(event))
    except ValueError:
        return reply(400, {"message": "the body must be a JSON object"})
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        return reply(400, {"message": 'the body must be a JSON object with a "name" string'})
    ITEMS[item_id] = {"id": item_id, "name": document["name"]}
    return reply(201, ITEMS[item_id])


ROUTES = {
    "GET /items": list_items,
    "GET /items/{id}": get_item,
    "POST /items/{id}": put_item,
}


def handler(event, context):
    route = ROUTES.get(event.get("routeKey"))
    return route(event) if route else reply(404, {"message": "Not Found"})

"""API Gateway HTTP APIs (issue #12) end to end: the apigatewayv2 control plane through unmodified boto3, and requests
to `http://<api-id>.execute-api.localhost:<port>/<stage>/…` through plain HTTP (Host header to 127.0.0.1, curl).

AWS's behaviour, from the API Gateway developer guide:
- payload formats 1.0 and 2.0, response mapping: http-api-develop-integrations-lambda.html
- routes, greedy variables, `$default`, precedence, `{"message":"Not Found"}`: http-api-develop-routes.html
  ("API Gateway selects the route with the most-specific match: 1. full match for a route and method, 2. a route and
  method with a greedy path variable, 3. the $default route"; a request that matches no stage or no route gets
  {"message":"Not Found"})
- a missing lambda permission or a failing function: {"message":"Internal Server Error"} with status 500
  (http-api-troubleshooting-lambda.html)
- CORS: http-api-cors.html (preflights answered by API Gateway, the integration's CORS headers ignored)
- a named stage's name is part of rawPath and requestContext.http.path; the $default stage's is not
  (aws-powertools/powertools-lambda-python#621, logandk/serverless-wsgi#191)
"""

import base64
import json
import os
import re

import pytest

from helpers import (
    ACCOUNT,
    PY,
    REPO,
    ROLE,
    aws_cli,
    cli_env,
    expect_client_error,
    function_arn,
    py_zip,
    run_cmd,
    unique,
)
from http_helpers import (
    CLF_TIME_RE,
    ECHO_SOURCE,
    api_host,
    client,
    curl_get,
    execute_api_arn,
    get_with_curl_or_http,
    invocations,
    port_of,
    send,
)

NOT_FOUND = {"message": "Not Found"}
INTERNAL = {"message": "Internal Server Error"}
API_ID_RE = re.compile(r"^[a-z0-9]{10}$")

# Payload format 1.0's response may carry multiValueHeaders.
LEGACY_SOURCE = r'''
import json

def handler(event, context):
    return {"statusCode": 201, "headers": {"X-One": "1"}, "multiValueHeaders": {"X-Multi": ["a", "b"]},
            "body": json.dumps({"event": event}), "isBase64Encoded": False}
'''


@pytest.fixture(scope="module")
def apigw(endpoint):
    return client("apigatewayv2", endpoint)


@pytest.fixture(scope="module")
def port(endpoint):
    return port_of(endpoint)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("api-invocations")
    os.chmod(path, 0o777)
    return str(path)


@pytest.fixture(scope="module")
def created(lam, apigw):
    """Functions and APIs the module made; deleted at its end."""
    made = {"functions": [], "apis": []}
    yield made
    for api_id in made["apis"]:
        try:
            apigw.delete_api(ApiId=api_id)
        except Exception:
            pass
    for name in made["functions"]:
        try:
            lam.delete_function(FunctionName=name)
        except Exception:
            pass


@pytest.fixture(scope="module")
def echo_fn(lam, created, out_dir):
    name = unique("api")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler", Timeout=30,
                        Code={"ZipFile": py_zip(ECHO_SOURCE)}, Environment={"Variables": {"OUT_DIR": out_dir}})
    created["functions"].append(name)
    return name


def new_api(apigw, created, **kwargs):
    response = apigw.create_api(Name=unique("http-api"), ProtocolType="HTTP", **kwargs)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    created["apis"].append(response["ApiId"])
    return response


def permit(lam, name, api_id, sid=None):
    """The statement the API Gateway console adds: apigateway.amazonaws.com, limited to this API by SourceArn."""
    return lam.add_permission(FunctionName=name, StatementId=sid or f"apigateway-{api_id}",
                              Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                              SourceArn=execute_api_arn(api_id))


def call(port, api_id, method, path, body=None, headers=None):
    return send(port, api_host(api_id, port), method, path, body=body, headers=headers)


def event_of(response):
    assert response.status == 200, response
    return response.json()["event"]


def b64(value):
    return base64.b64encode(json.dumps(value).encode()).decode()


# ------------------------------------------------------------------------------------------
# Quick create, the permission, payload 2.0
# ------------------------------------------------------------------------------------------


def test_quick_create_needs_the_apigateway_permission(lam, apigw, created, echo_fn, port, out_dir):
    api = new_api(apigw, created, Target=function_arn(echo_fn))
    api_id = api["ApiId"]
    assert API_ID_RE.match(api_id), api_id
    assert api["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{port}"
    assert api["ProtocolType"] == "HTTP"
    # "For HTTP APIs, the routeSelectionExpression must be ${request.method} ${request.path}" (apigatewayv2 model).
    assert api["RouteSelectionExpression"] == "${request.method} ${request.path}"
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert api["DisableExecuteApiEndpoint"] is False

    # Quick create: one AWS_PROXY integration (payload 2.0), the $default route to it, an auto-deploying $default stage.
    integrations = apigw.get_integrations(ApiId=api_id)["Items"]
    assert len(integrations) == 1
    integration = integrations[0]
    assert (integration["IntegrationType"], integration["IntegrationUri"], integration["PayloadFormatVersion"]) == (
        "AWS_PROXY", function_arn(echo_fn), "2.0")
    routes = apigw.get_routes(ApiId=api_id)["Items"]
    assert [(r["RouteKey"], r["Target"]) for r in routes] == [("$default", f"integrations/{integration['IntegrationId']}")]
    stages = apigw.get_stages(ApiId=api_id)["Items"]
    assert [(s["StageName"], s["AutoDeploy"]) for s in stages] == [("$default", True)]

    before = invocations(out_dir)
    response = call(port, api_id, "GET", "/anything")
    assert (response.status, response.json()) == (500, INTERNAL), response
    # A statement for another API (its SourceArn) does not let this one in.
    lam.add_permission(FunctionName=echo_fn, StatementId=f"other-{api_id}", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com", SourceArn=execute_api_arn("0000000000"))
    response = call(port, api_id, "GET", "/anything")
    assert (response.status, response.json()) == (500, INTERNAL), response
    assert invocations(out_dir) == before, "API Gateway invoked a function that does not allow it"

    permit(lam, echo_fn, api_id)
    response = call(port, api_id, "POST", "/anything/x?a=1&a=2", body=b'{"k": "v"}',
                    headers=[("Content-Type", "application/json"), ("User-Agent", "api-agent"), ("X-Multi", "1"),
                             ("X-Multi", "2"), ("Cookie", "s=1; t=2")])
    event = event_of(response)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/anything/x"
    assert event["rawQueryString"] == "a=1&a=2"
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert "cookie" not in event["headers"], "HTTP APIs move the Cookie header into `cookies`"
    assert event["headers"]["x-multi"] == "1,2"
    assert all(k == k.lower() for k in event["headers"])
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False
    assert event.get("pathParameters") is None and event.get("stageVariables") is None
    ctx = event["requestContext"]
    assert (ctx["accountId"], ctx["apiId"], ctx["domainPrefix"], ctx["stage"], ctx["routeKey"]) == (
        ACCOUNT, api_id, api_id, "$default", "$default")
    assert ctx["domainName"] in (api_host(api_id, port), api_host(api_id, port).rsplit(":", 1)[0])
    assert ctx["http"] == {"method": "POST", "path": "/anything/x", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                           "userAgent": "api-agent"}
    assert ctx["requestId"] and CLF_TIME_RE.match(ctx["time"]) and isinstance(ctx["timeEpoch"], int)

    # Payload 2.0's response inference is the function URL's (the same format).
    response = call(port, api_id, "GET", "/", headers={"X-Mode": "return", "X-Value": b64({"hello": "world"})})
    assert (response.status, response.json()) == (200, {"hello": "world"})
    assert response.headers["content-type"] == "application/json"
    response = call(port, api_id, "GET", "/", headers={"X-Mode": "cookies"})
    assert response.status == 201 and response.all("set-cookie") == ["a=1; Path=/", "b=2; Max-Age=60"]
    response = call(port, api_id, "GET", "/", headers={"X-Mode": "binary"})
    assert response.body == bytes(range(256))
    binary = call(port, api_id, "POST", "/up", body=bytes(range(256)),
                  headers={"Content-Type": "application/octet-stream"})
    assert event_of(binary)["isBase64Encoded"] is True
    assert base64.b64decode(event_of(binary)["body"]) == bytes(range(256))

    # A failing function: API Gateway's generic 500.
    response = call(port, api_id, "GET", "/", headers={"X-Mode": "raise"})
    assert (response.status, response.json()) == (500, INTERNAL), response

    # curl, as the example's README tells users to.
    status, head, body = curl_get(api_host(api_id, port), port, "/via-curl")
    assert status == 200, head
    assert json.loads(body)["event"]["rawPath"] == "/via-curl"


def test_an_unknown_api_is_404(port):
    response = call(port, "zzzzzzzzzz", "GET", "/")
    assert (response.status, response.json()) == (404, NOT_FOUND), response


# ------------------------------------------------------------------------------------------
# Routes, precedence, stages and stage variables
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def routed(lam, apigw, created, echo_fn):
    api_id = new_api(apigw, created)["ApiId"]
    integration = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                                           IntegrationUri=function_arn(echo_fn), PayloadFormatVersion="2.0")
    assert integration["ResponseMetadata"]["HTTPStatusCode"] == 201
    target = f"integrations/{integration['IntegrationId']}"
    keys = ["GET /items/{id}", "GET /items/special", "ANY /items/{proxy+}", "POST /things", "$default"]
    for key in keys:
        route = apigw.create_route(ApiId=api_id, RouteKey=key, Target=target)
        assert route["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert (route["RouteKey"], route["Target"], route["AuthorizationType"]) == (key, target, "NONE")
    default = apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    assert default["ResponseMetadata"]["HTTPStatusCode"] == 201
    prod = apigw.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True, StageVariables={"color": "blue"})
    assert prod["StageVariables"] == {"color": "blue"}
    permit(lam, echo_fn, api_id)
    return api_id


@pytest.mark.parametrize("method, path, route_key, path_parameters", [
    ("GET", "/items/special", "GET /items/special", None),        # a literal path beats a variable
    ("GET", "/items/42", "GET /items/{id}", {"id": "42"}),          # a variable beats a greedy variable
    ("GET", "/items/a%20b", "GET /items/{id}", {"id": "a b"}),      # parameters are URL-decoded
    ("GET", "/items/42/parts", "ANY /items/{proxy+}", {"proxy": "42/parts"}),
    ("DELETE", "/items/42", "ANY /items/{proxy+}", {"proxy": "42"}),  # GET /items/{id} does not take DELETE
    ("POST", "/things", "POST /things", None),
    ("GET", "/things", "$default", None),                           # no GET /things: the catch-all
    ("GET", "/nowhere/at/all", "$default", None),
])
def test_routes_are_matched_with_api_gateways_precedence(routed, port, method, path, route_key, path_parameters):
    event = event_of(call(port, routed, method, path, body=b"" if method in ("POST", "DELETE") else None))
    assert event["routeKey"] == route_key
    assert event["requestContext"]["routeKey"] == route_key
    assert event.get("pathParameters") == path_parameters
    assert event["rawPath"] == path
    assert event["requestContext"]["stage"] == "$default"


def test_a_named_stage_is_part_of_the_path_and_brings_its_variables(routed, port):
    event = event_of(call(port, routed, "GET", "/prod/items/7?x=1"))
    assert event["routeKey"] == "GET /items/{id}"
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] == {"color": "blue"}
    assert event["rawPath"] == "/prod/items/7"
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["http"]["path"] == "/prod/items/7"
    assert event["queryStringParameters"] == {"x": "1"}


def test_stage_and_route_changes_apply_at_once_with_auto_deploy(apigw, routed, port):
    apigw.update_stage(ApiId=routed, StageName="prod", StageVariables={"color": "green", "size": "xl"})
    assert event_of(call(port, routed, "GET", "/prod/items/7"))["stageVariables"] == {"color": "green", "size": "xl"}
    route = next(r for r in apigw.get_routes(ApiId=routed)["Items"] if r["RouteKey"] == "POST /things")
    updated = apigw.update_route(ApiId=routed, RouteId=route["RouteId"], RouteKey="PUT /things")
    assert updated["RouteKey"] == "PUT /things"
    try:
        assert event_of(call(port, routed, "PUT", "/things", body=b""))["routeKey"] == "PUT /things"
        assert event_of(call(port, routed, "POST", "/things", body=b""))["routeKey"] == "$default"
    finally:
        apigw.update_route(ApiId=routed, RouteId=route["RouteId"], RouteKey="POST /things")


# ------------------------------------------------------------------------------------------
# Payload format 1.0, named stages only, unmatched requests
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def legacy(lam, apigw, created):
    name = unique("legacy")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": py_zip(LEGACY_SOURCE)})
    created["functions"].append(name)
    api_id = new_api(apigw, created)["ApiId"]
    integration = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                                           IntegrationUri=function_arn(name), PayloadFormatVersion="1.0")
    assert integration["PayloadFormatVersion"] == "1.0"
    apigw.create_route(ApiId=api_id, RouteKey="GET /legacy/{id}", Target=f"integrations/{integration['IntegrationId']}")
    apigw.create_stage(ApiId=api_id, StageName="v1", AutoDeploy=True)
    permit(lam, name, api_id)
    return api_id


def test_payload_1_0_has_the_rest_shape(legacy, port):
    response = call(port, legacy, "GET", "/v1/legacy/42?a=1&a=2&b=3",
                    headers=[("User-Agent", "legacy-agent"), ("X-Multi", "one"), ("X-Multi", "two")])
    assert response.status == 201, response
    # 1.0's response: headers and multiValueHeaders both reach the client.
    assert response.headers["x-one"] == "1"
    assert response.all("x-multi") == ["a", "b"]
    event = response.json()["event"]

    assert event["version"] == "1.0"
    assert event["resource"] == "/legacy/{id}"
    assert event["path"] == "/v1/legacy/42"
    assert event["httpMethod"] == "GET"
    headers = {k.lower(): v for k, v in event["headers"].items()}
    multi_headers = {k.lower(): v for k, v in event["multiValueHeaders"].items()}
    assert multi_headers["x-multi"] == ["one", "two"]
    assert headers["x-multi"] in ("one,two", "two"), headers["x-multi"]
    assert headers["user-agent"] == "legacy-agent"
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["3"]}
    # The guide's example shows one value of a repeated parameter in queryStringParameters (not which one).
    assert event["queryStringParameters"]["b"] == "3" and event["queryStringParameters"]["a"] in ("1", "2")
    assert event["pathParameters"] == {"id": "42"}
    assert event.get("stageVariables") is None
    assert event.get("body") is None and event["isBase64Encoded"] is False

    ctx = event["requestContext"]
    assert (ctx["accountId"], ctx["apiId"], ctx["domainPrefix"], ctx["stage"], ctx["httpMethod"]) == (
        ACCOUNT, legacy, legacy, "v1", "GET")
    assert ctx["path"] == "/v1/legacy/42"
    assert ctx["protocol"] == "HTTP/1.1"
    assert ctx["requestId"]
    assert CLF_TIME_RE.match(ctx["requestTime"]), ctx["requestTime"]
    assert isinstance(ctx["requestTimeEpoch"], int)
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["identity"]["userAgent"] == "legacy-agent"


def test_requests_matching_no_stage_or_no_route_are_404(legacy, port):
    for path in ("/v2/legacy/42", "/legacy/42", "/v1/nothing/here", "/v1/legacy"):
        response = call(port, legacy, "GET", path)
        assert (response.status, response.json()) == (404, NOT_FOUND), (path, response)
    response = call(port, legacy, "POST", "/v1/legacy/42", body=b"")
    assert (response.status, response.json()) == (404, NOT_FOUND), response


# ------------------------------------------------------------------------------------------
# CORS
# ------------------------------------------------------------------------------------------


def test_cors_configuration_is_applied_by_api_gateway(lam, apigw, created, echo_fn, port, out_dir):
    cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-custom"],
            "ExposeHeaders": ["x-exposed"], "MaxAge": 600, "AllowCredentials": True}
    api = new_api(apigw, created, Target=function_arn(echo_fn), CorsConfiguration=cors)
    api_id = api["ApiId"]
    assert api["CorsConfiguration"] == cors
    permit(lam, echo_fn, api_id)

    before = invocations(out_dir)
    preflight = call(port, api_id, "OPTIONS", "/items", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-custom"})
    assert preflight.status in (200, 204), preflight
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert {"get", "post"} <= {m.strip().lower() for m in preflight.headers["access-control-allow-methods"].split(",")}
    assert "x-custom" in preflight.headers["access-control-allow-headers"].lower()
    assert preflight.headers["access-control-max-age"] == "600"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert invocations(out_dir) == before, "API Gateway passed the preflight to the function"

    actual = call(port, api_id, "GET", "/items", headers={"Origin": "https://app.example", "X-Mode": "cors-override"})
    assert actual.status == 200
    assert actual.all("access-control-allow-origin") == ["https://app.example"], "the integration's CORS headers win"
    assert actual.headers["access-control-expose-headers"].lower() == "x-exposed"

    updated = apigw.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["*"], "AllowMethods": ["GET"]})
    assert updated["CorsConfiguration"]["AllowOrigins"] == ["*"]
    actual = call(port, api_id, "GET", "/items", headers={"Origin": "https://anywhere.example"})
    assert actual.headers["access-control-allow-origin"] == "*"

    deleted = apigw.delete_cors_configuration(ApiId=api_id)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "CorsConfiguration" not in apigw.get_api(ApiId=api_id)
    # Without CORS, an OPTIONS request is an ordinary request for the $default route.
    event = event_of(call(port, api_id, "OPTIONS", "/items", headers={"Origin": "https://app.example",
                                                                        "Access-Control-Request-Method": "POST"}))
    assert event["requestContext"]["http"]["method"] == "OPTIONS"


# ------------------------------------------------------------------------------------------
# Control plane: Get/Update/Delete/List of each resource, and its errors
# ------------------------------------------------------------------------------------------


def test_control_plane_lifecycle_and_errors(lam, apigw, created, echo_fn, port):
    api = new_api(apigw, created, Description="first")
    api_id = api["ApiId"]
    expect_client_error(lambda: apigw.get_api(ApiId="nosuchapi0"), "NotFoundException", 404,
                        f"Invalid API identifier specified {ACCOUNT}:nosuchapi0")
    got = apigw.get_api(ApiId=api_id)
    assert (got["Name"], got["Description"], got["ApiEndpoint"]) == (api["Name"], "first", api["ApiEndpoint"])
    assert api_id in [a["ApiId"] for a in apigw.get_apis()["Items"]]
    renamed = apigw.update_api(ApiId=api_id, Name=api["Name"] + "-b", Description="second")
    assert (renamed["Name"], renamed["Description"]) == (api["Name"] + "-b", "second")

    # Integrations
    integration = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                                           IntegrationUri=function_arn(echo_fn), PayloadFormatVersion="2.0")
    iid = integration["IntegrationId"]
    assert apigw.get_integration(ApiId=api_id, IntegrationId=iid)["IntegrationUri"] == function_arn(echo_fn)
    changed = apigw.update_integration(ApiId=api_id, IntegrationId=iid, PayloadFormatVersion="1.0",
                                       TimeoutInMillis=5000)
    assert (changed["PayloadFormatVersion"], changed["TimeoutInMillis"]) == ("1.0", 5000)
    assert [i["IntegrationId"] for i in apigw.get_integrations(ApiId=api_id)["Items"]] == [iid]
    expect_client_error(lambda: apigw.get_integration(ApiId=api_id, IntegrationId="nosuch0"), "NotFoundException", 404)
    expect_client_error(lambda: apigw.create_integration(ApiId="nosuchapi0", IntegrationType="AWS_PROXY",
                                                         IntegrationUri=function_arn(echo_fn),
                                                         PayloadFormatVersion="2.0"),
                        "NotFoundException", 404, f"Invalid API identifier specified {ACCOUNT}:nosuchapi0")

    # Routes
    route = apigw.create_route(ApiId=api_id, RouteKey="GET /old", Target=f"integrations/{iid}")
    rid = route["RouteId"]
    expect_client_error(lambda: apigw.create_route(ApiId=api_id, RouteKey="GET /old", Target=f"integrations/{iid}"),
                        "ConflictException", 409)
    expect_client_error(lambda: apigw.create_route(ApiId=api_id, RouteKey="FETCH", Target=f"integrations/{iid}"),
                        "BadRequestException", 400)
    expect_client_error(lambda: apigw.create_route(ApiId=api_id, RouteKey="GET /a/{proxy+}/b",
                                                   Target=f"integrations/{iid}"),
                        "BadRequestException", 400)
    assert apigw.get_route(ApiId=api_id, RouteId=rid)["RouteKey"] == "GET /old"
    assert apigw.update_route(ApiId=api_id, RouteId=rid, RouteKey="GET /new")["RouteKey"] == "GET /new"
    assert [r["RouteKey"] for r in apigw.get_routes(ApiId=api_id)["Items"]] == ["GET /new"]
    expect_client_error(lambda: apigw.get_route(ApiId=api_id, RouteId="nosuch0"), "NotFoundException", 404)

    # Stages
    stage = apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    expect_client_error(lambda: apigw.create_stage(ApiId=api_id, StageName="$default"), "ConflictException", 409)
    permit(lam, echo_fn, api_id)
    response = call(port, api_id, "GET", "/new")
    assert response.status == 200, response
    assert response.json()["event"]["version"] == "1.0", "the integration's new payload format is in force"
    assert call(port, api_id, "GET", "/old").json() == NOT_FOUND
    assert apigw.update_stage(ApiId=api_id, StageName="$default", Description="d")["Description"] == "d"
    assert [s["StageName"] for s in apigw.get_stages(ApiId=api_id)["Items"]] == ["$default"]
    expect_client_error(lambda: apigw.get_stage(ApiId=api_id, StageName="nosuch"), "NotFoundException", 404)

    # Deletes, each then gone
    assert apigw.delete_route(ApiId=api_id, RouteId=rid)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_client_error(lambda: apigw.get_route(ApiId=api_id, RouteId=rid), "NotFoundException", 404)
    assert (call(port, api_id, "GET", "/new").status, call(port, api_id, "GET", "/new").json()) == (404, NOT_FOUND)
    assert apigw.delete_integration(ApiId=api_id, IntegrationId=iid)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_client_error(lambda: apigw.get_integration(ApiId=api_id, IntegrationId=iid), "NotFoundException", 404)
    assert apigw.delete_stage(ApiId=api_id, StageName="$default")["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_client_error(lambda: apigw.get_stage(ApiId=api_id, StageName="$default"), "NotFoundException", 404)
    assert apigw.delete_api(ApiId=api_id)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_client_error(lambda: apigw.get_api(ApiId=api_id), "NotFoundException", 404,
                        f"Invalid API identifier specified {ACCOUNT}:{api_id}")
    assert api_id not in [a["ApiId"] for a in apigw.get_apis()["Items"]]
    response = call(port, api_id, "GET", "/new")
    assert (response.status, response.json()) == (404, NOT_FOUND)
    expect_client_error(lambda: apigw.delete_api(ApiId=api_id), "NotFoundException", 404)


def test_deleting_the_function_behind_an_api_gives_a_clean_500(lam, apigw, created, port):
    name = unique("gone")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": py_zip(ECHO_SOURCE)})
    api_id = new_api(apigw, created, Target=function_arn(name))["ApiId"]
    permit(lam, name, api_id)
    assert call(port, api_id, "GET", "/").status == 200
    lam.delete_function(FunctionName=name)
    response = call(port, api_id, "GET", "/")
    assert (response.status, response.json()) == (500, INTERNAL), response


# ------------------------------------------------------------------------------------------
# The example: examples/http-api/deploy.sh, then curl on both routes
# ------------------------------------------------------------------------------------------


def test_the_http_api_example_deploys_with_one_command(lam, apigw, created, endpoint, port, tmp_path):
    cli = aws_cli()  # the AWS CLI v2 (CI installs it); skips elsewhere when it is missing
    script = os.path.join(REPO, "examples", "http-api", "deploy.sh")
    name = unique("items")
    env = cli_env(str(tmp_path))
    env.update(NIMBUS_ENDPOINT=endpoint, FUNCTION_NAME=name, PATH=os.path.dirname(cli) + os.pathsep + env["PATH"])
    created["functions"].append(name)

    def deploy():
        proc = run_cmd(["bash", script], env=env, timeout=180, cwd=str(tmp_path))
        assert proc.returncode == 0, f"deploy.sh exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        urls = re.findall(r"^API: (http://\S+)$", proc.stdout, re.MULTILINE)
        assert len(urls) == 1, proc.stdout
        return urls[0], proc.stdout

    url, output = deploy()
    m = re.fullmatch(r"http://([a-z0-9]{10})\.execute-api\.localhost:(\d+)", url)
    assert m and int(m.group(2)) == port, url
    api_id = m.group(1)
    created["apis"].append(api_id)
    assert f"curl -s {url}/items" in output and f"--resolve {api_id}.execute-api.localhost:{port}:127.0.0.1" in output

    host = api_host(api_id, port)
    status, body = get_with_curl_or_http(host, port, "/items")
    assert (status, json.loads(body)) == (200, {"items": [{"id": "1", "name": "kettle"}, {"id": "2", "name": "teapot"}]})
    status, body = get_with_curl_or_http(host, port, "/items/2")
    assert (status, json.loads(body)) == (200, {"id": "2", "name": "teapot"})
    status, body = get_with_curl_or_http(host, port, "/items/9")
    assert status == 404, body
    # The API's own routes, not a catch-all: an unrouted path is API Gateway's 404, the function never sees it.
    assert sorted(r["RouteKey"] for r in apigw.get_routes(ApiId=api_id)["Items"]) == [
        "GET /items", "GET /items/{id}", "POST /items/{id}"]
    status, body = get_with_curl_or_http(host, port, "/orders")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    status, body = get_with_curl_or_http(host, port, "/items/3", method="POST", body=b'{"name":"lamp"}',
                                         content_type="application/json")
    assert (status, json.loads(body)) == (201, {"id": "3", "name": "lamp"})

    # Deploying again updates the code and keeps the API (and so its URL).
    again, _ = deploy()
    assert again == url
    assert [a["ApiId"] for a in apigw.get_apis()["Items"] if a["Name"] == name] == [api_id]
    status, body = get_with_curl_or_http(host, port, "/items/1")
    assert (status, json.loads(body)) == (200, {"id": "1", "name": "kettle"})

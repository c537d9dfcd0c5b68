import NIOCore
import NimbusCore
import NimbusHTTPEvents

/// 2020-03-12T19:03:58.390Z: the instant of AWS's documented example (`12/Mar/2020:19:03:58 +0000`).
let exampleMillis: Int64 = 1_584_039_838_390

func request(
    method: String = "GET",
    path: String = "/",
    query: String = "",
    headers: [(name: String, value: String)] = [("host", "abc.lambda-url.us-east-1.localhost:9000")],
    body: ByteBuffer = ByteBuffer()
) -> HTTPTriggerRequest {
    HTTPTriggerRequest(
        method: method,
        rawPath: path,
        rawQuery: query,
        headers: headers,
        body: body,
        sourceIP: "203.0.113.7",
        host: "abc.lambda-url.us-east-1.localhost:9000",
        requestID: "c6af9ac6-7b61-11e6-9a41-93e812345678",
        timeEpochMillis: exampleMillis
    )
}

let urlContext = HTTPTriggerContext.functionURL(
    urlID: "abc",
    domainName: "abc.lambda-url.us-east-1.localhost",
    accountID: "123456789012"
)

let apiContext = HTTPTriggerContext.httpAPI(
    apiID: "a1b2c3",
    domainName: "a1b2c3.execute-api.localhost",
    accountID: "123456789012",
    routeKey: "GET /items/{id}",
    pathParameters: ["id": "42"],
    stageVariables: ["env": "test"]
)

/// The event as a JSON document (its member order is not part of the contract).
func v2(_ request: HTTPTriggerRequest, _ context: HTTPTriggerContext = urlContext) -> [String: JSONValue] {
    JSONValue.parse(PayloadFormatV2.event(for: request, context: context).readableBytesView)?.objectValue ?? [:]
}

func v1(_ request: HTTPTriggerRequest, _ context: HTTPTriggerContext = apiContext) -> [String: JSONValue] {
    JSONValue.parse(PayloadFormatV1.event(for: request, context: context).readableBytesView)?.objectValue ?? [:]
}

func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

func headerNames(_ response: HTTPTriggerResponse) -> [String] { response.headers.map { $0.name.lowercased() } }

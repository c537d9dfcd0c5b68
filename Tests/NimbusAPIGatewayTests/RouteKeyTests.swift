import Testing

@testable import NimbusAPIGateway

/// Route keys as HTTP APIs accept them, and the resource-tree conflicts AWS refuses with a 409.
@Suite struct RouteKeyTests {
    @Test(arguments: [
        "$default", "GET /", "GET /items", "GET /items/{id}", "ANY /{proxy+}", "POST /items/{id}/parts/{part}",
        "DELETE /a/b/c", "PATCH /items/{id}/{rest+}", "HEAD /x", "OPTIONS /x", "PUT /v1.2/items-list/{item_id}",
    ])
    func validKeys(_ raw: String) throws {
        let key = try RouteKey.parse(raw)
        #expect(key.raw == raw)
    }

    @Test(arguments: [
        ("", "method"),
        ("GET", "method and a path"),
        ("get /items", "method must be"),
        ("FETCH /items", "method must be"),
        ("GET items", "must start with"),
        ("GET  /items", "one space"),
        ("GET /items/", "empty segment"),
        ("GET //items", "empty segment"),
        ("GET /items/{id", "whole segment"),
        ("GET /items/id}", "whole segment"),
        ("GET /items/x{id}", "whole segment"),
        ("GET /items/{}", "whole segment"),
        ("GET /{proxy+}/more", "must be the last"),
        ("GET /{a}/{a}", "appears twice"),
        ("GET /{a b}", "one space"),
        ("GET /{a*}", "name may contain"),
        ("GET /a?b", "may not contain"),
        ("$connect", "WebSocket"),
        ("$defaultx", "WebSocket"),
    ])
    func invalidKeys(_ raw: String, _ reason: String) {
        #expect {
            try RouteKey.parse(raw)
        } throws: { error in
            guard let error = error as? APIGatewayError else { return false }
            return error.code == .badRequest && error.message.contains(reason)
        }
    }

    @Test func segmentsAndPath() throws {
        let key = try RouteKey.parse("GET /items/{id}/{rest+}")
        #expect(key.method == "GET")
        #expect(key.path == "/items/{id}/{rest+}")
        #expect(key.segments == [.literal("items"), .variable("id"), .greedy("rest")])
        #expect(key.isGreedy)
        let root = try RouteKey.parse("POST /")
        #expect(root.segments.isEmpty)
        #expect(root.path == "/")
        let fallback = try RouteKey.parse("$default")
        #expect(fallback.isDefault)
        #expect(fallback.path == "")
    }

    @Test(arguments: [
        ("GET /items/{id}", "GET /items/{itemId}", true),
        ("GET /items/{id}", "POST /items/{itemId}/parts", true),
        ("GET /{proxy+}", "POST /{path+}", true),
        ("GET /items/{id}", "GET /items/{id}/parts", false),
        ("GET /items/{id}", "GET /orders/{orderId}", false),
        ("GET /items/{id}", "GET /items/{proxy+}", false),
        ("GET /items/{id}", "GET /items/special", false),
        ("GET /a/{x}/b/{y}", "GET /a/{x}/b/{z}", true),
        ("GET /a/{x}/b/{y}", "GET /a/{x}/c/{z}", false),
    ])
    func conflictingVariables(_ a: String, _ b: String, _ conflict: Bool) throws {
        let first = try RouteKey.parse(a)
        let second = try RouteKey.parse(b)
        #expect(first.conflictingVariable(with: second) == conflict)
        #expect(second.conflictingVariable(with: first) == conflict)
    }
}

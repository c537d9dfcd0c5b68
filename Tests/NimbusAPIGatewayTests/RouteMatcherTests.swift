import Testing

@testable import NimbusAPIGateway

/// API Gateway's route precedence for HTTP APIs: exact paths over `{param}` over greedy `{proxy+}`, the request's
/// method over `ANY`, `$default` last.
@Suite struct RouteMatcherTests {
    static func matcher(_ keys: [String]) throws -> RouteMatcher<String> {
        RouteMatcher(try keys.map { (try RouteKey.parse($0), $0) })
    }

    static func segments(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }

    /// The developer guide's example set, plus neighbours that exercise each rule.
    static let keys = [
        "GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default",
        "GET /pets/{kind}/1", "POST /pets", "ANY /pets", "GET /", "ANY /pets/dog/{id}",
        "GET /pets/dog/{id}/toys/{proxy+}",
        "PUT /store/{item}", "ANY /store/{proxy+}",
    ]

    @Test(arguments: [
        ("GET", "/pets/dog/1", "GET /pets/dog/1"),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),
        ("GET", "/pets/cat/1", "GET /pets/{kind}/1"),
        ("GET", "/pets/cat/2", "GET /pets/{proxy+}"),
        ("GET", "/pets/cat", "GET /pets/{proxy+}"),
        ("POST", "/pets/dog/2", "ANY /pets/dog/{id}"),
        ("DELETE", "/pets/cat/2", "ANY /{proxy+}"),
        ("POST", "/pets", "POST /pets"),
        ("GET", "/pets", "ANY /pets"),
        ("GET", "/", "GET /"),
        ("POST", "/", "$default"),
        ("GET", "/pets/dog/7/toys/ball/red", "GET /pets/dog/{id}/toys/{proxy+}"),
        ("GET", "/pets/dog/7/toys", "GET /pets/{proxy+}"),
        ("PUT", "/store/hat", "PUT /store/{item}"),
        ("GET", "/store/hat", "ANY /store/{proxy+}"),
        ("PUT", "/store/hat/blue", "ANY /store/{proxy+}"),
        ("HEAD", "/pets/dog/1", "ANY /pets/dog/{id}"),
        ("GET", "/other", "ANY /{proxy+}"),
    ])
    func precedence(_ method: String, _ path: String, _ expected: String) throws {
        let matcher = try Self.matcher(Self.keys)
        #expect(matcher.match(method: method, segments: Self.segments(path))?.target == expected)
    }

    @Test func orderOfDeclarationDoesNotMatter() throws {
        let forward = try Self.matcher(Self.keys)
        let backward = try Self.matcher(Self.keys.reversed())
        for (method, path) in [
            ("GET", "/pets/dog/1"), ("GET", "/pets/cat/2"), ("POST", "/pets/dog/2"), ("GET", "/pets"),
        ] {
            #expect(
                forward.match(method: method, segments: Self.segments(path))?.target
                    == backward.match(method: method, segments: Self.segments(path))?.target)
        }
    }

    @Test func pathParameters() throws {
        let matcher = try Self.matcher(["GET /items/{id}", "GET /files/{path+}", "GET /a/{x}/b/{y}"])
        #expect(matcher.match(method: "GET", segments: ["items", "42"])?.pathParameters == ["id": "42"])
        #expect(
            matcher.match(method: "GET", segments: ["files", "a", "b c", "d.txt"])?.pathParameters == [
                "path": "a/b c/d.txt"
            ])
        #expect(matcher.match(method: "GET", segments: ["a", "1", "b", "2"])?.pathParameters == ["x": "1", "y": "2"])
        // A percent-decoded slash stays inside its segment.
        #expect(matcher.match(method: "GET", segments: ["items", "a/b"])?.pathParameters == ["id": "a/b"])
    }

    @Test func greedyNeedsOneSegmentAndDefaultHasNoParameters() throws {
        let matcher = try Self.matcher(["ANY /{proxy+}", "GET /pets/{proxy+}"])
        #expect(matcher.match(method: "GET", segments: []) == nil)
        #expect(matcher.match(method: "GET", segments: ["pets"])?.target == "ANY /{proxy+}")
        let withDefault = try Self.matcher(["ANY /{proxy+}", "$default"])
        let root = withDefault.match(method: "GET", segments: [])
        #expect(root?.target == "$default")
        #expect(root?.pathParameters.isEmpty == true)
    }

    @Test func methodMustMatchUnlessANY() throws {
        let matcher = try Self.matcher(["GET /items", "POST /items/{id}"])
        #expect(matcher.match(method: "POST", segments: ["items"]) == nil)
        #expect(matcher.match(method: "HEAD", segments: ["items"]) == nil)
        #expect(matcher.match(method: "GET", segments: ["items", "1"]) == nil)
        #expect(matcher.match(method: "POST", segments: ["items", "1"])?.target == "POST /items/{id}")
    }

    @Test func noRoutesNoMatch() throws {
        #expect(try Self.matcher([]).match(method: "GET", segments: ["x"]) == nil)
        #expect(try Self.matcher(["GET /a"]).match(method: "GET", segments: ["a", "b"]) == nil)
        #expect(try Self.matcher(["GET /a/b"]).match(method: "GET", segments: ["a"]) == nil)
    }

    @Test func literalBeatsVariableAtTheFirstDifference() throws {
        let matcher = try Self.matcher(["GET /{a}/x/y", "GET /p/{b}/{c}"])
        // Left-most segment decides: /p/… is literal there.
        #expect(matcher.match(method: "GET", segments: ["p", "x", "y"])?.target == "GET /p/{b}/{c}")
    }

    @Test func stageSelection() {
        let stages = ["$default", "dev", "prod"]
        #expect(APIGatewayService.selectStage(path: "/dev/items/1", stages: stages) == ("dev", ["items", "1"]))
        #expect(APIGatewayService.selectStage(path: "/items/1", stages: stages) == ("$default", ["items", "1"]))
        #expect(APIGatewayService.selectStage(path: "/", stages: stages) == ("$default", []))
        #expect(APIGatewayService.selectStage(path: "/dev", stages: stages) == ("dev", []))
        #expect(APIGatewayService.selectStage(path: "/$default/x", stages: stages) == ("$default", ["$default", "x"]))
        #expect(APIGatewayService.selectStage(path: "/items", stages: ["dev"]) == (nil, ["items"]))
        #expect(APIGatewayService.selectStage(path: "/a%20b/c%2Fd", stages: stages) == ("$default", ["a b", "c/d"]))
    }
}

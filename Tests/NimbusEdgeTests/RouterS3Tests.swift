import NimbusCore
import Testing

@testable import NimbusEdge

/// S3's addressing: path-style `/{Bucket}/{Key+}` with keys taken from the raw path (empty segments and trailing
/// slashes kept), virtual-hosted `<bucket>.s3.<domain>`, and S3 as the last resort of unsigned requests.
@Suite struct RouterS3Tests {
    static let s3 = ServiceDefinition(
        name: "s3", signingNames: ["s3"], wire: .restXML, hostRules: [HostRule("{Bucket}.s3", pathLabel: "Bucket")],
        operations: [
            RouterTests.op("ListBuckets", "GET", "/"),
            RouterTests.op("ListObjects", "GET", "/{Bucket}"),
            RouterTests.op("GetObjectTagging", "GET", "/{Bucket}/{Key+}?tagging"),
            RouterTests.op("GetObject", "GET", "/{Bucket}/{Key+}"),
        ])
    let router = Router(services: [RouterTests.lambda, RouterTests.sts, Self.s3])

    func head(_ method: String, _ rawPath: String, query: [(String, String)] = [], host: String = "127.0.0.1:9000", signing: String? = nil)
        -> Router.Head
    {
        Router.Head(
            method: method,
            segments: rawPath.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) },
            rawSegments: rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init),
            query: query, host: host, target: nil, signingName: signing, isSandbox: false)
    }

    func routed(_ head: Router.Head) -> (String, String?, [String: String])? {
        guard case .success(let route) = self.router.route(head) else { return nil }
        return (route.service.name, route.operation?.name, route.labels)
    }

    @Test func keysKeepEmptySegmentsTrailingSlashesAndEncodedCharacters() {
        #expect(self.routed(self.head("GET", "/photos/a//b", signing: "s3"))?.2 == ["Bucket": "photos", "Key": "a//b"])
        #expect(self.routed(self.head("GET", "/photos/dir/", signing: "s3"))?.2["Key"] == "dir/")
        #expect(self.routed(self.head("GET", "/photos//lead", signing: "s3"))?.2["Key"] == "/lead")
        #expect(self.routed(self.head("GET", "/photos/a%20b%2Fc+d", signing: "s3"))?.2["Key"] == "a b/c+d")
        #expect(self.routed(self.head("GET", "/photos/..%2F..%2Fetc", signing: "s3"))?.2["Key"] == "../../etc")
    }

    @Test func virtualHostsRouteAsPathStyle() {
        let object = self.routed(self.head("GET", "/dir/x.jpg", host: "photos.s3.localhost:9000"))
        #expect(object?.1 == "GetObject")
        #expect(object?.2 == ["Bucket": "photos", "Key": "dir/x.jpg"])
        #expect(self.routed(self.head("GET", "/", host: "photos.s3.localhost:9000"))?.1 == "ListObjects")
        #expect(self.routed(self.head("GET", "/k", query: [("tagging", "")], host: "b.s3.localhost"))?.1 == "GetObjectTagging")
        // `s3.localhost` itself addresses no bucket.
        #expect(self.routed(self.head("GET", "/", host: "s3.localhost:9000", signing: "s3"))?.1 == "ListBuckets")
    }

    @Test func unsignedRequestsTryS3Last() {
        #expect(self.routed(self.head("GET", "/2015-03-31/functions"))?.1 == "ListFunctions")
        #expect(self.routed(self.head("GET", "/photos/k"))?.1 == "GetObject")
        // A query-protocol action is not mistaken for ListBuckets.
        let action = self.routed(self.head("GET", "/", query: [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]))
        #expect(action?.0 == "sts")
        #expect(self.routed(self.head("GET", "/"))?.1 == "ListBuckets")
    }
}

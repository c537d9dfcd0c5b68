import FoundationEssentials
import NimbusSigV4
import Testing

/// The canonicalisation rules one by one, beyond what the test suites exercise.
@Suite("Canonical requests")
struct CanonicalRequestTests {
    func canonical(
        path: String = "/", query: String? = nil, headers: [(name: String, value: String)] = [("Host", "h")],
        signing signedHeaders: [String] = ["host"], options: SigV4.Options = .standard
    ) -> [String] {
        let request = SigV4Request(method: "GET", path: path, query: query, headers: headers)
        let canonical = CanonicalRequest(
            request, signedHeaders: signedHeaders, payloadHash: "UNSIGNED-PAYLOAD", options: options)
        return canonical.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test(arguments: [
        ("", "/"),
        ("/a/b/../c/./d", "/a/c/d"),
        ("/../..", "/"),
        ("//a//b//", "/a/b/"),
        ("/a/b/..", "/a"),
        ("/%7Euser/my%20file.txt", "/%257Euser/my%2520file.txt"),
        ("/caf\u{E9}", "/caf%C3%A9"),
        ("/a:b(c)*!", "/a%3Ab%28c%29%2A%21"),
    ])
    func pathsOfOtherServicesAreNormalisedAndEncodedAgain(path: String, canonical: String) {
        #expect(self.canonical(path: path)[1] == canonical)
    }

    @Test(arguments: ["/bucket/a//b/../c.txt", "/bucket/my%20photo%2B1.jpg", "/", "/bucket/./x"])
    func s3PathsAreSignedAsSent(path: String) {
        #expect(self.canonical(path: path, options: .s3)[1] == path)
    }

    @Test(arguments: [
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=10", "a=1&a=10&a=2"),
        ("acl", "acl="),
        ("a=x+y&b=%2B&c=%7e&d=%41", "a=x%20y&b=%2B&c=~&d=A"),
        ("k=%zz&l=100%", "k=%25zz&l=100%25"),
        ("a=b=c", "a=b%3Dc"),
        ("&&x=1&", "x=1"),
        ("prefix=photos/2024/&delimiter=/", "delimiter=%2F&prefix=photos%2F2024%2F"),
        ("%E1%88%B4=bar&Z=1", "%E1%88%B4=bar&Z=1"),
        ("", ""),
    ])
    func queriesAreDecodedEncodedAndSorted(query: String, canonical: String) {
        #expect(self.canonical(query: query)[2] == canonical)
    }

    @Test
    func headerValuesAreTrimmedAndRepeatedFieldsJoined() {
        let lines = self.canonical(
            headers: [
                ("Host", " h "), ("X-Multi", " a  b\tc "), ("x-multi", "d"), ("X-Empty", ""), ("X-Ignored", "z"),
            ],
            signing: ["host", "x-empty", "x-multi"])
        #expect(Array(lines[3...7]) == ["host:h", "x-empty:", "x-multi:a b c,d", "", "host;x-empty;x-multi"])
    }

    @Test
    func aSignedHeaderTheRequestLacksSignsEmpty() {
        #expect(self.canonical(signing: ["host", "x-absent"])[3...4] == ["host:h", "x-absent:"])
    }

    @Test
    func theStringToSignHashesTheCanonicalRequest() {
        let request = SigV4Request(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")])
        var headers = request
        headers.addHeader("X-Amz-Date", "20150830T123600Z")
        let canonical = CanonicalRequest(
            headers, signedHeaders: ["host", "x-amz-date"], payloadHash: SigV4.emptyPayloadSHA256, options: .standard)
        let scope = CredentialScope(
            accessKeyID: "AKIDEXAMPLE", date: "20150830", region: "us-east-1", service: "service")
        let stringToSign = canonical.stringToSign(timestamp: SigV4Timestamp(basic: "20150830T123600Z")!, scope: scope)
        #expect(canonical.hash == "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
        let lines = ["AWS4-HMAC-SHA256", "20150830T123600Z", "20150830/us-east-1/service/aws4_request", canonical.hash]
        #expect(stringToSign == lines.joined(separator: "\n"))
        let key = SigningKey(secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", scope: scope)
        #expect(key.signature(of: stringToSign) == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test
    func requestTargetsSplitAtTheFirstQuestionMark() {
        let request = SigV4Request(method: "GET", target: "/a?b=c?d")
        #expect(request.path == "/a")
        #expect(request.query == "b=c?d")
        #expect(request.target == "/a?b=c?d")
        #expect(SigV4Request(method: "GET", target: "/a").query == nil)
    }

    @Test
    func optionsFollowTheScopesService() {
        #expect(SigV4.Options(service: "s3") == .s3)
        #expect(SigV4.Options(service: "s3-object-lambda") == .s3)
        #expect(SigV4.Options(service: "lambda") == .standard)
        #expect(SigV4.Options(service: "sqs") == .standard)
    }
}

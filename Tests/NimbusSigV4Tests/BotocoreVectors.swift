import FoundationEssentials
import NimbusSigV4
import Testing

/// Requests signed by botocore 1.43 (the boto3 and awscli v1 signer), generated once with its `SigV4Auth`,
/// `S3SigV4Auth`, `S3SigV4QueryAuth` and `SigV4QueryAuth` at 2024-05-01T12:00:00Z, and two requests captured from
/// boto3 clients just before sending (`before-send`): what Nimbus's edge will receive. Secret
/// `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` for both access keys.
struct BotocoreVector: Sendable, CustomTestStringConvertible {
    var name: String
    var method: String
    var target: String
    var headers: [(name: String, value: String)]
    var body: String
    /// botocore's canonical request and string to sign, where they were recorded.
    var canonicalRequest: String?
    var stringToSign: String?

    var testDescription: String { self.name }

    var request: SigV4Request {
        SigV4Request(method: self.method, target: self.target, headers: self.headers, body: Array(self.body.utf8))
    }

    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    /// 2024-05-01T12:00:00Z.
    static let date = Date(timeIntervalSince1970: 1_714_564_800)

    static let all: [BotocoreVector] = [
        BotocoreVector(
            name: "lambda-invoke", method: "POST", target: "/2015-03-31/functions/my%3Afunction/invocations?Qualifier=%24LATEST",
            headers: [
                ("Host", "lambda.us-east-1.amazonaws.com"),
                ("Content-Type", "application/json"),
                ("X-Amz-Invocation-Type", "RequestResponse"),
                ("User-Agent", "Boto3/1.0"),
                ("X-Amz-Date", "20240501T120000Z"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, Signature=d57c74444cd13616baacedd48aec11bb498baefc1a73560b99e212c6bc7fd07f"),
            ],
            body: "{\"key\":\"value\"}",
            canonicalRequest: [
                "POST",
                "/2015-03-31/functions/my%253Afunction/invocations",
                "Qualifier=%24LATEST",
                "content-type:application/json",
                "host:lambda.us-east-1.amazonaws.com",
                "x-amz-date:20240501T120000Z",
                "x-amz-invocation-type:RequestResponse",
                "",
                "content-type;host;x-amz-date;x-amz-invocation-type",
                "e43abcf3375244839c012f9633f95862d232a95b00d5bc7348b3098b9fed7f32",
            ].joined(separator: "\n"),
            stringToSign: [
                "AWS4-HMAC-SHA256",
                "20240501T120000Z",
                "20240501/us-east-1/lambda/aws4_request",
                "8acd26de299467bae149675cbcb961d7fa41f761cb37c9336d725b1c5734f09b",
            ].joined(separator: "\n")),
        BotocoreVector(
            name: "lambda-path-normalised", method: "GET", target: "//2015-03-31/./functions/a%20b/../x/?MaxItems=10&Marker=a%20b&Empty=",
            headers: [
                ("Host", "lambda.eu-west-1.amazonaws.com"),
                ("X-Amz-Date", "20240501T120000Z"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/eu-west-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=ddcff7543cf332ecc334c564798e167a3e0b39ee9f08ad74b72e56d11f2406a8"),
            ],
            body: "",
            canonicalRequest: [
                "GET",
                "/2015-03-31/functions/x/",
                "Empty=&Marker=a%20b&MaxItems=10",
                "host:lambda.eu-west-1.amazonaws.com",
                "x-amz-date:20240501T120000Z",
                "",
                "host;x-amz-date",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ].joined(separator: "\n"),
            stringToSign: [
                "AWS4-HMAC-SHA256",
                "20240501T120000Z",
                "20240501/eu-west-1/lambda/aws4_request",
                "57163ab52e2d60c2c7cc845b76e30d625892615f187d80e13aaac15fa0cdaa0d",
            ].joined(separator: "\n")),
        BotocoreVector(
            name: "logs-json", method: "POST", target: "/",
            headers: [
                ("Host", "logs.us-west-2.amazonaws.com"),
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "Logs_20140328.PutLogEvents"),
                ("X-Amz-Date", "20240501T120000Z"),
                ("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE+token/=="),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7EXAMPLE/20240501/us-west-2/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=97bab989314f8e14028e1c4add365e8366495445354bededff4bbe63268cff86"),
            ],
            body: "{\"logGroupName\":\"g\"}",
            canonicalRequest: [
                "POST",
                "/",
                "",
                "content-type:application/x-amz-json-1.1",
                "host:logs.us-west-2.amazonaws.com",
                "x-amz-date:20240501T120000Z",
                "x-amz-security-token:FQoGZXIvYXdzEXAMPLE+token/==",
                "x-amz-target:Logs_20140328.PutLogEvents",
                "",
                "content-type;host;x-amz-date;x-amz-security-token;x-amz-target",
                "87eeec2400caf4c9986ded70ae3674666ff43e81f9cdfd962079a74730603e25",
            ].joined(separator: "\n"),
            stringToSign: [
                "AWS4-HMAC-SHA256",
                "20240501T120000Z",
                "20240501/us-west-2/logs/aws4_request",
                "1db2af730b966a4c3cc2abea4dade708e2e5b64000861ff43f77774f07329c11",
            ].joined(separator: "\n")),
        BotocoreVector(
            name: "s3-put", method: "PUT", target: "/photos/my%20photo%2B1.jpg?x-id=PutObject",
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Content-Type", "image/jpeg"),
                ("x-amz-meta-owner", "me"),
                ("X-Amz-Date", "20240501T120000Z"),
                ("X-Amz-Content-SHA256", "c9ad25d0e9aa0413bd60f3afd33a35844fca35c99ae4ebcf0f8cdc8df27372ab"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-owner, Signature=3b11d298d10af1f5c244f442dae83376e81b28680bf5ddef0cc15fabde6faee5"),
            ],
            body: "Hello, S3!",
            canonicalRequest: [
                "PUT",
                "/photos/my%20photo%2B1.jpg",
                "x-id=PutObject",
                "content-type:image/jpeg",
                "host:examplebucket.s3.amazonaws.com",
                "x-amz-content-sha256:c9ad25d0e9aa0413bd60f3afd33a35844fca35c99ae4ebcf0f8cdc8df27372ab",
                "x-amz-date:20240501T120000Z",
                "x-amz-meta-owner:me",
                "",
                "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-owner",
                "c9ad25d0e9aa0413bd60f3afd33a35844fca35c99ae4ebcf0f8cdc8df27372ab",
            ].joined(separator: "\n"),
            stringToSign: [
                "AWS4-HMAC-SHA256",
                "20240501T120000Z",
                "20240501/us-east-1/s3/aws4_request",
                "656910f6ff68c7ce044ded4606003574e751252828b0b48be369b8a06a383ac2",
            ].joined(separator: "\n")),
        BotocoreVector(
            name: "s3-get-dotted", method: "GET", target: "/examplebucket/a//b/../c.txt",
            headers: [
                ("Host", "s3.us-east-1.amazonaws.com"),
                ("Range", "bytes=0-9"),
                ("X-Amz-Date", "20240501T120000Z"),
                ("X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=452eebcf5e5b2a7fa3c1cd84e2b260a93972fd9af462e529dac3d1c8ada85729"),
            ],
            body: "",
            canonicalRequest: [
                "GET",
                "/examplebucket/a//b/../c.txt",
                "",
                "host:s3.us-east-1.amazonaws.com",
                "range:bytes=0-9",
                "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "x-amz-date:20240501T120000Z",
                "",
                "host;range;x-amz-content-sha256;x-amz-date",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ].joined(separator: "\n"),
            stringToSign: [
                "AWS4-HMAC-SHA256",
                "20240501T120000Z",
                "20240501/us-east-1/s3/aws4_request",
                "dd4a34c65a51cda42e6e5b84550a2b20815c7f2ab657e2bf9976e1990a8c50e8",
            ].joined(separator: "\n")),
        BotocoreVector(
            name: "s3-presign", method: "GET", target: "/test%20file.txt?versionId=3&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240501T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=71b54198e01c02e8fb19b0e3745c51536e4c16aa65027356c70bbcafd1748930",
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"),
            ],
            body: "",
            canonicalRequest: [
                "GET",
                "/test%20file.txt",
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240501T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&versionId=3",
                "host:examplebucket.s3.amazonaws.com",
                "",
                "host",
                "UNSIGNED-PAYLOAD",
            ].joined(separator: "\n"),
            stringToSign: [
                "AWS4-HMAC-SHA256",
                "20240501T120000Z",
                "20240501/us-east-1/s3/aws4_request",
                "ed7fefc900fb7a0c87fec9dc024c198da14ede42612dcd8da37bb5e2ac9bcaf6",
            ].joined(separator: "\n")),
        BotocoreVector(
            name: "sts-presign", method: "POST", target: "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20240501%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20240501T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2Btoken%2F%3D%3D&X-Amz-Signature=264db59e3f024f94acde0d9b7c37a4946cdea07f1c0ffae76e17354c5364df8b",
            headers: [
                ("Host", "sts.amazonaws.com"),
            ],
            body: "",
            canonicalRequest: [
                "POST",
                "/",
                "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20240501%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20240501T120000Z&X-Amz-Expires=60&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2Btoken%2F%3D%3D&X-Amz-SignedHeaders=host",
                "host:sts.amazonaws.com",
                "",
                "host",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ].joined(separator: "\n"),
            stringToSign: [
                "AWS4-HMAC-SHA256",
                "20240501T120000Z",
                "20240501/us-east-1/sts/aws4_request",
                "9ce17271657bf92f291dec7135441b21808e87f2c61af48713d1d084e7b3b443",
            ].joined(separator: "\n")),
        BotocoreVector(
            name: "before-send.s3.PutObject", method: "PUT", target: "/examplebucket/dir/hello%20world.txt",
            headers: [
                ("Host", "s3.us-east-1.amazonaws.com"),
                ("User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v1252 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,Z,U,b,D cfg/retry-mode#legacy Botocore/1.43.11"),
                ("Expect", "100-continue"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Encoding", "aws-chunked"),
                ("X-Amz-Trailer", "x-amz-checksum-crc32"),
                ("X-Amz-Decoded-Content-Length", "21"),
                ("x-amz-sdk-checksum-algorithm", "CRC32"),
                ("X-Amz-Date", "20240501T120000Z"),
                ("X-Amz-Content-SHA256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=513dcc3fe6a0381c977d6b2cd3c9c185856b7a04e8dd37e1976fe9bea4c5c1ba"),
                ("amz-sdk-invocation-id", "49ad903f-2a9e-4dbc-a049-e162346d54b5"),
                ("amz-sdk-request", "attempt=1"),
            ],
            body: "15\r\nHello, chunked world!\r\n0\r\nx-amz-checksum-crc32:F/8VHg==\r\n\r\n",
            canonicalRequest: nil,
            stringToSign: nil),
        BotocoreVector(
            name: "before-send.lambda.Invoke", method: "POST", target: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations",
            headers: [
                ("Host", "127.0.0.1:9000"),
                ("User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v1252 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,Z,b,D cfg/retry-mode#legacy Botocore/1.43.11"),
                ("X-Amz-Date", "20240501T120000Z"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=3528713fcc91bd07f2e792e480a10e8222ba211141fd94035e99db2e2d8c7517"),
                ("amz-sdk-invocation-id", "2549de4e-5767-420c-959a-62239ba0b231"),
                ("amz-sdk-request", "attempt=1"),
                ("Content-Length", "2"),
            ],
            body: "{}",
            canonicalRequest: nil,
            stringToSign: nil),
    ]
}

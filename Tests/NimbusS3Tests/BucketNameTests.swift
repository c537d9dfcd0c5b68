import Testing

@testable import NimbusS3

@Suite struct BucketNameTests {
    @Test(arguments: [
        "abc", "my-bucket", "my.bucket.name", "0bucket9", "a1-b2.c3", String(repeating: "a", count: 63),
        "xn-bucket", "bucket-s3", "mrap.example", "1.2.3", "1.2.3.4.5", "1234.1.1.1", "a.b.c.d",
    ])
    func acceptsValidNames(_ name: String) throws {
        try BucketName.validate(name)
        #expect(BucketName.isValid(name))
    }

    @Test(arguments: [
        ("ab", "too short"),
        (String(repeating: "a", count: 64), "too long"),
        ("My-Bucket", "uppercase"),
        ("my_bucket", "underscore"),
        ("my bucket", "space"),
        ("-bucket", "starts with a hyphen"),
        ("bucket-", "ends with a hyphen"),
        (".bucket", "starts with a period"),
        ("bucket.", "ends with a period"),
        ("my..bucket", "adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("999.1.1.1", "IP address form"),
        ("xn--bucket", "xn-- prefix"),
        ("sthree-bucket", "sthree- prefix"),
        ("sthree-configurator-x", "sthree-configurator prefix"),
        ("amzn-s3-demo-bucket", "amzn-s3-demo- prefix"),
        ("bucket-s3alias", "-s3alias suffix"),
        ("bucket--ol-s3", "--ol-s3 suffix"),
        ("bucket.mrap", ".mrap suffix"),
        ("bucket--x-s3", "--x-s3 suffix"),
        ("bucket--table-s3", "--table-s3 suffix"),
        ("bücket", "non-ASCII"),
    ])
    func refusesInvalidNames(_ name: String, _ why: String) {
        #expect(throws: S3Error.invalidBucketName(name), "\(why)") { try BucketName.validate(name) }
        #expect(!BucketName.isValid(name))
    }

    @Test func errorNamesTheBucket() {
        let error = S3Error.invalidBucketName("Bad")
        #expect(error.code == "InvalidBucketName")
        #expect(error.status == 400)
        #expect(error.fields.map(\.0) == ["BucketName"])
        #expect(error.fields.map(\.1) == ["Bad"])
    }
}

/// S3's naming rules for general-purpose buckets, checked before a bucket is created.
///
/// The rules are AWS's published list ("General purpose bucket naming rules"): 3 to 63 characters; only lowercase
/// letters, digits, periods and hyphens; a letter or digit first and last; no two adjacent periods; not formatted as an
/// IPv4 address; none of the reserved prefixes (`xn--`, `sthree-`, which also covers `sthree-configurator`,
/// `amzn-s3-demo-`) or suffixes (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`). Names that only the legacy
/// us-east-1 rules allowed (uppercase, underscores) are refused, as S3 refuses them for new buckets everywhere.
public enum BucketName {
    /// The reserved beginnings: punycode labels, S3's internal names and the documentation's example buckets.
    public static let reservedPrefixes = ["xn--", "sthree-", "amzn-s3-demo-"]
    /// The reserved endings: access point aliases, Object Lambda aliases, Multi-Region Access Points, directory
    /// buckets and table buckets.
    public static let reservedSuffixes = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]

    /// Checks `name` against the rules. - Throws: ``S3Error/invalidBucketName(_:)`` naming the bucket.
    public static func validate(_ name: String) throws(S3Error) {
        guard self.isValid(name) else { throw S3Error.invalidBucketName(name) }
    }

    /// Whether `name` follows every rule.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."),
                UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        guard let first = bytes.first, let last = bytes.last, Self.isLetterOrDigit(first), Self.isLetterOrDigit(last)
        else { return false }
        guard !name.contains("..") else { return false }
        guard !Self.looksLikeIPAddress(bytes) else { return false }
        if Self.reservedPrefixes.contains(where: { name.hasPrefix($0) }) { return false }
        if Self.reservedSuffixes.contains(where: { name.hasSuffix($0) }) { return false }
        return true
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Four dot-separated groups of one to three digits (`192.168.5.4`): the form a virtual-hosted request could not
    /// tell from an address. The values are not range-checked (`999.1.1.1` is refused too), as the rule is about form.
    private static func looksLikeIPAddress(_ bytes: [UInt8]) -> Bool {
        let groups = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard groups.count == 4 else { return false }
        return groups.allSatisfy { group in
            (1...3).contains(group.count) && group.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
    }
}

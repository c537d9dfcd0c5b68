/// Where Lambda reads a deployment package named by `Code.S3Bucket`/`S3Key`/`S3ObjectVersion` (CreateFunction,
/// UpdateFunctionCode): the S3 service, given to Lambda by the composition root.
public protocol PackageSource: Sendable {
    /// The object's bytes, read as the bucket's owner in `namespace` reads them.
    /// - Throws: ``PackageSourceError``.
    func package(bucket: String, key: String, version: String?, namespace: AccountContext, limit: Int) async throws
        -> [UInt8]
}

/// Why a package could not be read, as S3 would answer GetObject: Lambda reports it as "Error occurred while
/// GetObject. S3 Error Code: <code>. S3 Error Message: <message>".
public struct PackageSourceError: Error, Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

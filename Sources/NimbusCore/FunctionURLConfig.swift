/// A function URL (`CreateFunctionUrlConfig`): a dedicated HTTP endpoint for `$LATEST` or an alias of a function.
/// Persisted as JSON by the store; rendered in AWS's `FunctionUrlConfig` shape by ``wire(account:endpoint:)``.
public struct FunctionURLConfig: Codable, Sendable, Equatable {
    /// The first label of the URL's host: 32 lowercase letters and digits, unique across every namespace.
    public var urlID: String
    public var functionName: String
    /// The alias the URL invokes, or nil for the unqualified function (`$LATEST`).
    public var qualifier: String?
    /// `NONE` (anyone whom the resource policy allows) or `AWS_IAM` (SigV4-signed callers).
    public var authType: String
    /// The `Cors` block as the caller set it (validated), or nil for no CORS handling.
    public var cors: JSONValue?
    /// `BUFFERED` or `RESPONSE_STREAM` when the caller set one; AWS echoes the mode only once it was given, and
    /// `GetFunctionUrlConfig` reports `BUFFERED` otherwise.
    public var invokeMode: String?
    public var creationMillis: Int64
    public var lastModifiedMillis: Int64

    public init(
        urlID: String, functionName: String, qualifier: String?, authType: String, cors: JSONValue?,
        invokeMode: String?, creationMillis: Int64, lastModifiedMillis: Int64
    ) {
        self.urlID = urlID
        self.functionName = functionName
        self.qualifier = qualifier
        self.authType = authType
        self.cors = cors
        self.invokeMode = invokeMode
        self.creationMillis = creationMillis
        self.lastModifiedMillis = lastModifiedMillis
    }

    /// `http://<url-id>.lambda-url.<region>.localhost:<port>/`: the host routes the request, whatever address it
    /// reaches the server on.
    public static func url(id: String, region: String, port: Int?) -> String {
        "http://\(id).lambda-url.\(region).localhost\(port.map { ":\($0)" } ?? "")/"
    }

    /// The configuration as AWS answers it. `listing`/`get`: `InvokeMode` defaults to `BUFFERED` and
    /// `LastModifiedTime` appears; the create response has neither unless set.
    public func wire(account: AccountContext, port: Int?, full: Bool, includeLastModified: Bool) -> JSONValue {
        var body: [String: JSONValue] = [
            "FunctionUrl": .string(Self.url(id: self.urlID, region: account.region, port: port)),
            "FunctionArn": .string(account.functionARN(self.functionName, qualifier: self.qualifier)),
            "AuthType": .string(self.authType),
            "CreationTime": .string(Timestamp.microsString(millis: self.creationMillis)),
        ]
        if includeLastModified { body["LastModifiedTime"] = .string(Timestamp.microsString(millis: self.lastModifiedMillis)) }
        if let cors = self.cors { body["Cors"] = cors }
        if let mode = self.invokeMode ?? (full ? "BUFFERED" : nil) { body["InvokeMode"] = .string(mode) }
        return .object(body)
    }
}

extension Timestamp {
    /// `2021-10-27T23:45:05.876000Z`: function URLs' `CreationTime` and `LastModifiedTime` (microseconds).
    public static func microsString(millis: Int64) -> String {
        let iso = self.isoString(millis: millis)
        return String(iso.dropLast()) + "000Z"
    }
}

/// A function failure to report through `/runtime/invocation/{id}/error` (or `/runtime/init/error`).
///
/// Throw it from a handler to choose the `errorType` and `errorMessage` the caller sees. Any other error a
/// handler throws is reported with its Swift type name as `errorType` and its description as `errorMessage`.
public struct LambdaFunctionError: Error, Sendable, Equatable {
    /// The `errorType`, also sent as `Lambda-Runtime-Function-Error-Type`; by convention `Category.Reason`.
    public var type: String
    /// The `errorMessage`.
    public var message: String

    /// Creates an error with the given `errorType` and `errorMessage`.
    public init(type: String, message: String) {
        self.type = type
        self.message = message
    }

    /// Describes an arbitrary error: its dynamic type name and its `String(describing:)` text.
    public init(describing error: any Error) {
        if let functionError = error as? LambdaFunctionError {
            self = functionError
        } else {
            self.init(type: String(describing: Swift.type(of: error)), message: String(describing: error))
        }
    }

    /// The body the Runtime API expects: `{"errorMessage":…,"errorType":…,"stackTrace":[]}`.
    public func jsonBody() -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(self.message.utf8.count + self.type.utf8.count + 48)
        body += #"{"errorMessage":"#.utf8
        LambdaJSON.appendQuoted(self.message, to: &body)
        body += #","errorType":"#.utf8
        LambdaJSON.appendQuoted(self.type, to: &body)
        body += #","stackTrace":[]}"#.utf8
        return body
    }
}

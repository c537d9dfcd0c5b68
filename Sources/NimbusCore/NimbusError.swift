/// An error of the Lambda API, carrying the AWS error type, HTTP status and message. Thrown anywhere below the HTTP
/// edge; the edge turns it into AWS's rest-json error shape (`x-amzn-ErrorType` header + JSON body).
///
/// A function's own failure is never a `NimbusError`: it is an invocation outcome.
public struct NimbusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The AWS exception name, with its HTTP status and the casing of its message member.
    public enum Code: String, Sendable {
        case resourceNotFound = "ResourceNotFoundException"
        case resourceConflict = "ResourceConflictException"
        case invalidParameterValue = "InvalidParameterValueException"
        case validation = "ValidationException"
        case invalidRequestContent = "InvalidRequestContentException"
        case requestTooLarge = "RequestEntityTooLargeException"
        case tooManyRequests = "TooManyRequestsException"
        case preconditionFailed = "PreconditionFailedException"
        case unsupportedMediaType = "UnsupportedMediaTypeException"
        case service = "ServiceException"
        case invalidRuntime = "InvalidRuntimeException"
        case invalidZipFile = "InvalidZipFileException"
        case resourceNotReady = "ResourceNotReadyException"
        case codeStorageExceeded = "CodeStorageExceededException"
        case unknownOperation = "UnknownOperationException"
        case notImplemented = "NotImplementedException"
        case provisionedConcurrencyConfigNotFound = "ProvisionedConcurrencyConfigNotFoundException"
        case accessDenied = "AccessDeniedException"
        case policyLengthExceeded = "PolicyLengthExceededException"

        /// HTTP status AWS uses for this exception.
        public var status: Int {
            switch self {
            case .resourceNotFound, .unknownOperation, .provisionedConcurrencyConfigNotFound: 404
            case .resourceConflict: 409
            case .accessDenied: 403
            case .invalidParameterValue, .validation, .invalidRequestContent, .codeStorageExceeded, .policyLengthExceeded: 400
            case .requestTooLarge: 413
            case .tooManyRequests: 429
            case .preconditionFailed: 412
            case .unsupportedMediaType: 415
            case .service: 500
            case .notImplemented: 501
            case .invalidRuntime, .invalidZipFile, .resourceNotReady: 502
            }
        }

        /// Whether the service model names the message member `Message` (true) or `message` (false).
        public var capitalisedMessage: Bool {
            switch self {
            case .resourceNotFound, .service, .requestTooLarge, .unknownOperation, .notImplemented, .accessDenied: true
            default: false
            }
        }
    }

    public var code: Code
    public var message: String
    /// Extra members of the body (e.g. `Reason` on TooManyRequestsException).
    public var extra: [String: String]
    /// For `ValidationException`: the individual constraint violations.
    public var validationErrors: [String]

    public init(_ code: Code, _ message: String, extra: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.extra = extra
        self.validationErrors = []
    }

    /// AWS's "N validation error(s) detected: …" `ValidationException`.
    public static func validation(_ errors: [String]) -> NimbusError {
        var error = NimbusError(.validation, Self.validationMessage(errors))
        error.validationErrors = errors
        return error
    }

    /// The text of AWS's front-end validation failures, every service's: `1 validation error detected: Value 'x' at
    /// 'name' failed to satisfy constraint: …`, or `N validation errors detected: …; …`.
    public static func validationMessage(_ problems: [String]) -> String {
        let count = problems.count
        return "\(count) validation error\(count == 1 ? "" : "s") detected: \(problems.joined(separator: "; "))"
    }

    public static func invalidParameter(_ message: String) -> NimbusError {
        NimbusError(.invalidParameterValue, message)
    }

    public static func service(_ message: String) -> NimbusError {
        NimbusError(.service, message)
    }

    public var description: String { "\(self.code.rawValue): \(self.message)" }
}

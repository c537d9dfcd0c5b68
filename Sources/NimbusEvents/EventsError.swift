import NimbusCore
import NimbusEdge

/// An error of the EventBridge API as AWS answers it (json 1.1: `__type` and `message` in the body, status 400 for
/// everything the caller did). Messages follow AWS's answers as recorded against the real service.
public struct EventsError: Error, Sendable, Equatable, ServiceErrorConvertible {
    public var code: String
    public var message: String
    public var status: Int

    public init(code: String, message: String, status: Int = 400) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var serviceError: ServiceError {
        ServiceError(code: self.code, status: self.status, message: self.message)
    }

    // MARK: The catalogue

    static func validation(_ message: String) -> EventsError {
        EventsError(code: "ValidationException", message: message)
    }

    /// `N validation error(s) detected: …; …` for constraint violations of the request's members.
    static func constraints(_ violations: [String]) -> EventsError {
        .validation(NimbusError.validationMessage(violations))
    }

    static func ruleNotFound(_ name: String, bus: String) -> EventsError {
        EventsError(code: "ResourceNotFoundException", message: "Rule \(name) does not exist on EventBus \(bus).")
    }

    static func busNotFound(_ name: String) -> EventsError {
        EventsError(code: "ResourceNotFoundException", message: "Event bus \(name) does not exist.")
    }

    static func busExists(_ name: String) -> EventsError {
        EventsError(code: "ResourceAlreadyExistsException", message: "Event bus \(name) already exists.")
    }

    static let limitExceeded = EventsError(
        code: "LimitExceededException",
        message: "The requested resource exceeds the maximum number allowed."
    )

    static func invalidPattern(_ message: String) -> EventsError {
        EventsError(code: "InvalidEventPatternException", message: message)
    }

    static func serialization(_ message: String) -> EventsError {
        EventsError(code: "SerializationException", message: message)
    }

    static func internalError(_ message: String) -> EventsError {
        EventsError(code: "InternalException", message: message, status: 500)
    }
}

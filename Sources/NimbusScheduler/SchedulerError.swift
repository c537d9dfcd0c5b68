import NimbusCore
import NimbusEdge

/// An error of EventBridge Scheduler in its rest-json shape: `x-amzn-ErrorType` and `{"Message": …}` (every error
/// structure of the `scheduler` model names its message `Message`).
struct SchedulerError: Error, Sendable, Equatable, ServiceErrorConvertible {
    enum Code: String, Sendable {
        case validation = "ValidationException"
        case resourceNotFound = "ResourceNotFoundException"
        case conflict = "ConflictException"
        case serviceQuotaExceeded = "ServiceQuotaExceededException"
        case internalServer = "InternalServerException"

        var status: Int {
            switch self {
            case .validation: 400
            case .resourceNotFound: 404
            case .conflict: 409
            case .serviceQuotaExceeded: 402
            case .internalServer: 500
            }
        }
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var serviceError: ServiceError {
        ServiceError(
            code: self.code.rawValue,
            status: self.code.status,
            message: self.message,
            messageMember: "Message"
        )
    }

    static func validation(_ message: String) -> SchedulerError { SchedulerError(.validation, message) }

    /// AWS: `Schedule my-schedule does not exist.` (recorded in public bug reports of GetSchedule and
    /// UpdateSchedule).
    static func scheduleNotFound(_ name: String) -> SchedulerError {
        SchedulerError(.resourceNotFound, "Schedule \(name) does not exist.")
    }

    static func groupNotFound(_ name: String) -> SchedulerError {
        SchedulerError(.resourceNotFound, "Schedule group \(name) does not exist.")
    }

    static func scheduleExists(_ name: String) -> SchedulerError {
        SchedulerError(.conflict, "Schedule \(name) already exists.")
    }

    static func groupExists(_ name: String) -> SchedulerError {
        SchedulerError(.conflict, "Schedule group \(name) already exists.")
    }

    /// Two changes of one schedule or group at once: the second is refused, as AWS refuses changes that "can cause an
    /// inconsistent state".
    static let concurrentModification = SchedulerError(
        .conflict,
        "Updating or deleting the resource can cause an inconsistent state. Please try again."
    )
}

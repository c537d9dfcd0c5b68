import NimbusCore
import NimbusEdge

/// An error of the API Gateway v2 control plane, in AWS's shapes (`x-amzn-ErrorType`, `{"message": …}`).
struct APIGatewayError: Error, Sendable, Equatable, ServiceErrorConvertible {
    enum Code: String, Sendable {
        case notFound = "NotFoundException"
        case badRequest = "BadRequestException"
        case conflict = "ConflictException"
        case tooManyRequests = "TooManyRequestsException"

        var status: Int {
            switch self {
            case .notFound: 404
            case .badRequest: 400
            case .conflict: 409
            case .tooManyRequests: 429
            }
        }
    }

    var code: Code
    var message: String
    /// `NotFoundException.resourceType` (`Api`, `Route`…).
    var resourceType: String?

    init(_ code: Code, _ message: String, resourceType: String? = nil) {
        self.code = code
        self.message = message
        self.resourceType = resourceType
    }

    var serviceError: ServiceError {
        var fields: [String: JSONValue] = [:]
        if let resourceType { fields["resourceType"] = .string(resourceType) }
        return ServiceError(code: self.code.rawValue, status: self.code.status, message: self.message, fields: fields)
    }

    static func badRequest(_ message: String) -> APIGatewayError { APIGatewayError(.badRequest, message) }
    static func conflict(_ message: String) -> APIGatewayError { APIGatewayError(.conflict, message) }

    /// AWS: `Invalid API identifier specified 123456789012:a1b2c3d4e5`.
    static func apiNotFound(_ id: String, _ namespace: AccountContext) -> APIGatewayError {
        APIGatewayError(.notFound, "Invalid API identifier specified \(namespace.accountID):\(id)", resourceType: "Api")
    }

    static func integrationNotFound(_ id: String) -> APIGatewayError {
        APIGatewayError(.notFound, "Invalid Integration identifier specified \(id)", resourceType: "Integration")
    }

    static func routeNotFound(_ id: String) -> APIGatewayError {
        APIGatewayError(.notFound, "Invalid Route identifier specified \(id)", resourceType: "Route")
    }

    static func stageNotFound(_ name: String) -> APIGatewayError {
        APIGatewayError(.notFound, "Invalid stage identifier specified \(name)", resourceType: "Stage")
    }

    static func deploymentNotFound(_ id: String) -> APIGatewayError {
        APIGatewayError(.notFound, "Invalid Deployment identifier specified \(id)", resourceType: "Deployment")
    }

    /// AWS's answer when two changes of one API overlap.
    static let concurrentModification = APIGatewayError(
        .conflict, "Unable to complete operation due to concurrent modification. Please try again later.")
}

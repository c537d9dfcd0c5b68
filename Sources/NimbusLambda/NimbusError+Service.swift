import NimbusCore
import NimbusEdge

/// Lambda's errors as the edge renders them (rest-json): `x-amzn-ErrorType`, a `Type` member (`User` or
/// `Service`), the message under the member the service model names, extra members such as `Reason`, and
/// `Retry-After` as a header.
extension NimbusError: ServiceErrorConvertible {
    public var serviceError: ServiceError {
        var fields: [String: JSONValue] = ["Type": .string(self.code.status >= 500 ? "Service" : "User")]
        var headers: [(String, String)] = []
        for (key, value) in self.extra {
            if key == "Retry-After" { headers.append((key, value)) } else { fields[key] = .string(value) }
        }
        return ServiceError(
            code: self.code.rawValue, status: self.code.status, message: self.message,
            messageMember: self.code.capitalisedMessage ? "Message" : "message", fields: fields, headers: headers)
    }
}

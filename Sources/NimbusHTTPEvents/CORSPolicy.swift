import NIOCore
import NimbusCore

/// CORS as a front door applies it from its configuration (a function URL's `Cors`, an HTTP API's
/// `CorsConfiguration`; both have the same six fields): the platform answers preflight requests itself and adds the
/// CORS headers to the function's responses, so the function never sees a preflight.
///
/// Use: on each request, `if let answer = policy.preflightResponse(for: request) { return answer }`; otherwise invoke
/// and then `policy.decorate(&response, for: request)` (also on platform errors). Validate a configuration with
/// ``validate()`` when it is created or updated.
public struct CORSPolicy: Sendable, Hashable {
    /// Which front door's rules apply (origin wildcards, preflight status, which function headers are dropped).
    public var frontDoor: HTTPFrontDoor
    /// `AllowCredentials`: send `access-control-allow-credentials: true`.
    public var allowCredentials: Bool
    /// `AllowHeaders`: request headers a preflight may announce (`*` for any); compared case-insensitively.
    public var allowHeaders: [String]
    /// `AllowMethods`: methods a preflight may announce (`*` for any); compared case-insensitively.
    public var allowMethods: [String]
    /// `AllowOrigins`: origins allowed: `*` for any, an exact origin (`https://www.example.com`,
    /// `http://localhost:8080`), and for HTTP APIs also `https://*` / `http://*` for any origin of that scheme.
    public var allowOrigins: [String]
    /// `ExposeHeaders`: response headers a browser may expose to scripts.
    public var exposeHeaders: [String]
    /// `MaxAge`: seconds a browser may cache a preflight's answer; nil (or -1 for HTTP APIs) leaves the header out.
    public var maxAge: Int?

    public init(
        frontDoor: HTTPFrontDoor,
        allowCredentials: Bool = false,
        allowHeaders: [String] = [],
        allowMethods: [String] = [],
        allowOrigins: [String] = [],
        exposeHeaders: [String] = [],
        maxAge: Int? = nil
    ) {
        self.frontDoor = frontDoor
        self.allowCredentials = allowCredentials
        self.allowHeaders = allowHeaders
        self.allowMethods = allowMethods
        self.allowOrigins = allowOrigins
        self.exposeHeaders = exposeHeaders
        self.maxAge = maxAge
    }

    // MARK: Preflight

    /// Whether `request` is a CORS preflight: `OPTIONS` with `origin` and `access-control-request-method`.
    public static func isPreflight(_ request: HTTPTriggerRequest) -> Bool {
        request.method == "OPTIONS" && request.header("origin") != nil
            && request.header("access-control-request-method") != nil
    }

    /// The platform's answer to a preflight request; nil when `request` is not a preflight (it then goes to the
    /// function like any request).
    ///
    /// Status 204 (HTTP APIs) or 200 (function URLs), empty body. When the origin, the requested method and every
    /// requested header are allowed, the answer carries `access-control-allow-origin`, `-allow-methods`,
    /// `-allow-headers` (only when headers were requested), `-allow-credentials`, `-max-age` and `vary: origin` (for
    /// a reflected origin). Otherwise it carries no CORS headers at all, and the browser refuses the actual request.
    public func preflightResponse(for request: HTTPTriggerRequest) -> HTTPTriggerResponse? {
        guard Self.isPreflight(request), let origin = request.header("origin"),
            let requestedMethod = request.header("access-control-request-method")
        else { return nil }
        let status = self.frontDoor == .httpAPI ? 204 : 200
        let requestedHeaders = Self.tokens(request.header("access-control-request-headers") ?? "")
        guard let allowedOrigin = self.allowedOriginValue(for: origin),
            let methods = self.allowedMethodsValue(for: requestedMethod),
            let headers = self.allowedHeadersValue(for: requestedHeaders)
        else {
            return HTTPTriggerResponse(status: status)
        }
        var fields: [(name: String, value: String)] = [("access-control-allow-origin", allowedOrigin)]
        if self.allowCredentials { fields.append(("access-control-allow-credentials", "true")) }
        fields.append(("access-control-allow-methods", methods))
        if let headers { fields.append(("access-control-allow-headers", headers)) }
        if let maxAge, maxAge >= 0 { fields.append(("access-control-max-age", String(maxAge))) }
        if allowedOrigin != "*" { fields.append(("vary", "Origin")) }
        return HTTPTriggerResponse(status: status, headers: fields)
    }

    // MARK: Actual responses

    /// Applies the policy to a response for `request` (the function's, or a platform error).
    ///
    /// CORS headers the function set itself are removed first: all of them for HTTP APIs ("API Gateway ignores CORS
    /// headers returned from your backend integration"), those the configuration sets for function URLs ("the
    /// configured CORS headers on the function URL take precedence"). Then, when the request has an allowed
    /// `origin`: `access-control-allow-origin`, `-allow-credentials` (when configured), `-expose-headers` (when
    /// configured) and `vary: Origin` for a reflected origin.
    public func decorate(_ response: inout HTTPTriggerResponse, for request: HTTPTriggerRequest) {
        let replaced: Set<String>
        switch self.frontDoor {
        case .httpAPI:
            response.headers.removeAll { $0.name.lowercased().hasPrefix("access-control-") }
            replaced = []
        case .functionURL:
            var names: Set<String> = ["access-control-allow-origin"]
            if self.allowCredentials { names.insert("access-control-allow-credentials") }
            if !self.exposeHeaders.isEmpty { names.insert("access-control-expose-headers") }
            replaced = names
        }
        guard let origin = request.header("origin"), let allowedOrigin = self.allowedOriginValue(for: origin) else {
            return
        }
        if !replaced.isEmpty { response.headers.removeAll { replaced.contains($0.name.lowercased()) } }
        response.headers.append(("access-control-allow-origin", allowedOrigin))
        if self.allowCredentials { response.headers.append(("access-control-allow-credentials", "true")) }
        if !self.exposeHeaders.isEmpty {
            response.headers.append(("access-control-expose-headers", self.exposeHeaders.joined(separator: ",")))
        }
        if allowedOrigin != "*" { response.headers.append(("vary", "Origin")) }
    }

    // MARK: Matching

    /// The `access-control-allow-origin` value for `origin`: `*` when any origin is allowed and credentials are not,
    /// otherwise the request's origin itself when it matches an entry; nil when it is not allowed.
    public func allowedOriginValue(for origin: String) -> String? {
        let lowered = origin.lowercased()
        for entry in self.allowOrigins {
            let pattern = entry.lowercased()
            if pattern == "*" { return self.allowCredentials ? origin : "*" }
            if pattern == lowered { return origin }
            if self.frontDoor == .httpAPI, pattern == "https://*" || pattern == "http://*",
                lowered.hasPrefix(pattern.dropLast()), lowered.count > pattern.count - 1
            {
                return origin
            }
        }
        return nil
    }

    /// The `access-control-allow-methods` value when `method` is allowed: the configured list, or the requested
    /// method when `*` is configured (a literal `*` means nothing to a browser when credentials are allowed); nil
    /// when it is not allowed.
    func allowedMethodsValue(for method: String) -> String? {
        let wanted = method.uppercased()
        if self.allowMethods.contains("*") { return wanted }
        guard self.allowMethods.contains(where: { $0.uppercased() == wanted }) else { return nil }
        return self.allowMethods.map { $0.uppercased() }.joined(separator: ",")
    }

    /// The `access-control-allow-headers` value for the requested headers: `.some(nil)` when none were requested
    /// (the header is omitted), the configured list (or the requested ones, for `*`) when all are allowed; nil when
    /// one is not.
    func allowedHeadersValue(for requested: [String]) -> String?? {
        guard !requested.isEmpty else { return .some(nil) }
        if self.allowHeaders.contains("*") { return requested.joined(separator: ",") }
        let allowed = Set(self.allowHeaders.map { $0.lowercased() })
        guard requested.allSatisfy({ allowed.contains($0.lowercased()) }) else { return nil }
        return self.allowHeaders.joined(separator: ",")
    }

    /// The comma-separated tokens of a header value, trimmed, empty ones dropped.
    static func tokens(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0.trimmingASCIIWhitespace()) }.filter { !$0.isEmpty }
    }

    // MARK: Validation

    /// Checks a configuration as the front door's API does when it is created or updated.
    ///
    /// Function URLs (Lambda's `Cors` shape): at most 100 origins of 1–253 characters, at most 6 methods of at most
    /// 6 characters from `GET PUT POST DELETE HEAD PATCH *`, at most 100 allowed and 100 exposed headers of at most
    /// 1024 characters, `MaxAge` 0…86400; errors are Lambda `ValidationException`s. HTTP APIs: `MaxAge` -1…86400 and
    /// no credentials with a `*` origin; errors are `BadRequestException`s.
    public func validate() throws(CORSConfigurationError) {
        switch self.frontDoor {
        case .functionURL: try self.validateFunctionURL()
        case .httpAPI: try self.validateHTTPAPI()
        }
    }

    private func validateFunctionURL() throws(CORSConfigurationError) {
        var problems: [String] = []
        func constraint(_ value: String, _ field: String, _ rule: String) {
            problems.append("Value '\(value)' at 'cors.\(field)' failed to satisfy constraint: \(rule)")
        }
        func list(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
        if self.allowOrigins.count > 100 {
            constraint(list(self.allowOrigins), "allowOrigins", "Member must have length less than or equal to 100")
        }
        for origin in self.allowOrigins where origin.isEmpty || origin.count > 253 {
            constraint(
                list(self.allowOrigins),
                "allowOrigins",
                "Member must satisfy constraint: [Member must have length less than or equal to 253, "
                    + "Member must have length greater than or equal to 1]"
            )
            break
        }
        if self.allowMethods.count > 6 {
            constraint(list(self.allowMethods), "allowMethods", "Member must have length less than or equal to 6")
        }
        for method in self.allowMethods where method.count > 6 {
            constraint(
                list(self.allowMethods),
                "allowMethods",
                "Member must satisfy constraint: [Member must have length less than or equal to 6]"
            )
            break
        }
        for (field, headers) in [("allowHeaders", self.allowHeaders), ("exposeHeaders", self.exposeHeaders)] {
            if headers.count > 100 {
                constraint(list(headers), field, "Member must have length less than or equal to 100")
            }
            if headers.contains(where: { $0.count > 1024 }) {
                constraint(
                    list(headers),
                    field,
                    "Member must satisfy constraint: [Member must have length less than or equal to 1024]"
                )
            }
        }
        if let maxAge, maxAge > 86400 {
            constraint(String(maxAge), "maxAge", "Member must have value less than or equal to 86400")
        }
        if let maxAge, maxAge < 0 {
            constraint(String(maxAge), "maxAge", "Member must have value greater than or equal to 0")
        }
        if !problems.isEmpty { throw CORSConfigurationError(.validation, NimbusError.validationMessage(problems)) }
        let methods: Set<String> = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "*"]
        if let bad = self.allowMethods.first(where: { !methods.contains($0.uppercased()) }) {
            throw CORSConfigurationError(
                .validation,
                "Invalid method '\(bad)' in AllowMethods. You can use GET, PUT, POST, DELETE, HEAD, PATCH, and the "
                    + "wildcard character (*)."
            )
        }
    }

    private func validateHTTPAPI() throws(CORSConfigurationError) {
        if let maxAge, maxAge < -1 || maxAge > 86400 {
            throw CORSConfigurationError(.badRequest, "Invalid maxAge \(maxAge): it must be between -1 and 86400.")
        }
        if self.allowCredentials, self.allowOrigins.contains("*") {
            throw CORSConfigurationError(.badRequest, "allow-credentials is not supported if 'allow-origin' is *")
        }
    }
}

/// Why a CORS configuration was refused; the service answers with the error of its API.
public struct CORSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which of the APIs' errors this is.
    public enum Code: String, Sendable {
        /// Lambda's `ValidationException` (400), for function URL configurations.
        case validation = "ValidationException"
        /// API Gateway's `BadRequestException` (400), for HTTP API configurations.
        case badRequest = "BadRequestException"
    }

    /// The error's code, which is also the AWS error type to send.
    public var code: Code
    /// AWS's message.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, for logs.
    public var description: String { "\(self.code.rawValue): \(self.message)" }
}

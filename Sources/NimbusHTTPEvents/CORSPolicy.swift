import NIOCore

/// CORS as a front door applies it from its configuration (a function URL's `Cors`, an HTTP API's
/// `CorsConfiguration`; both have the same six fields): the platform answers preflight requests itself and adds the
/// CORS headers to the function's responses — the function never sees a preflight.
public struct CORSPolicy: Sendable, Hashable {
    /// `AllowCredentials`: send `access-control-allow-credentials: true`.
    public var allowCredentials: Bool
    /// `AllowHeaders`: request headers a preflight may announce (`*` for any); compared case-insensitively.
    public var allowHeaders: [String]
    /// `AllowMethods`: methods a preflight may announce (`*` for any).
    public var allowMethods: [String]
    /// `AllowOrigins`: origins allowed (`*` for any).
    public var allowOrigins: [String]
    /// `ExposeHeaders`: response headers the browser may expose to scripts.
    public var exposeHeaders: [String]
    /// `MaxAge`: seconds a browser may cache a preflight's answer; nil leaves the header out.
    public var maxAge: Int?

    public init(
        allowCredentials: Bool = false,
        allowHeaders: [String] = [],
        allowMethods: [String] = [],
        allowOrigins: [String] = [],
        exposeHeaders: [String] = [],
        maxAge: Int? = nil
    ) {
        self.allowCredentials = allowCredentials
        self.allowHeaders = allowHeaders
        self.allowMethods = allowMethods
        self.allowOrigins = allowOrigins
        self.exposeHeaders = exposeHeaders
        self.maxAge = maxAge
    }

    /// Whether `request` is a CORS preflight: `OPTIONS` with `origin` and `access-control-request-method`.
    public static func isPreflight(_ request: HTTPTriggerRequest) -> Bool {
        request.method == "OPTIONS" && request.header("origin") != nil
            && request.header("access-control-request-method") != nil
    }

    /// The answer to a preflight request, built by the platform; nil when `request` is not a preflight (it then
    /// goes to the function).
    public func preflightResponse(for request: HTTPTriggerRequest) -> HTTPTriggerResponse? {
        guard Self.isPreflight(request), let origin = request.header("origin") else { return nil }
        var headers: [(name: String, value: String)] = []
        if let allowedOrigin = self.allowedOriginValue(for: origin) {
            headers.append(("access-control-allow-origin", allowedOrigin))
            if self.allowCredentials { headers.append(("access-control-allow-credentials", "true")) }
            if !self.allowMethods.isEmpty {
                headers.append(("access-control-allow-methods", self.allowMethods.joined(separator: ",")))
            }
            if !self.allowHeaders.isEmpty {
                headers.append(("access-control-allow-headers", self.allowHeaders.joined(separator: ",")))
            }
            if !self.exposeHeaders.isEmpty {
                headers.append(("access-control-expose-headers", self.exposeHeaders.joined(separator: ",")))
            }
            if let maxAge { headers.append(("access-control-max-age", String(maxAge))) }
        }
        return HTTPTriggerResponse(status: 204, headers: headers)
    }

    /// Adds the CORS headers for `request`'s origin to a response (the function's, or a platform error), replacing
    /// any CORS headers the function set itself.
    public func decorate(_ response: inout HTTPTriggerResponse, for request: HTTPTriggerRequest) {
        guard let origin = request.header("origin"), let allowedOrigin = self.allowedOriginValue(for: origin) else {
            return
        }
        response.headers.removeAll { $0.name.lowercased().hasPrefix("access-control-") }
        response.headers.append(("access-control-allow-origin", allowedOrigin))
        if self.allowCredentials { response.headers.append(("access-control-allow-credentials", "true")) }
        if !self.exposeHeaders.isEmpty {
            response.headers.append(("access-control-expose-headers", self.exposeHeaders.joined(separator: ",")))
        }
    }

    /// The `access-control-allow-origin` value for `origin`: `*` when any origin is allowed (and credentials are
    /// not), the origin itself when it is listed; nil when it is not allowed.
    func allowedOriginValue(for origin: String) -> String? {
        if self.allowOrigins.contains("*") { return self.allowCredentials ? origin : "*" }
        let lowered = origin.lowercased()
        return self.allowOrigins.contains(where: { $0.lowercased() == lowered }) ? origin : nil
    }
}

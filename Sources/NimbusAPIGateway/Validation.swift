/// The control plane's input rules beyond types: AWS's quotas and the shapes of names, keys and settings. Pure.
enum Validation {
    /// AWS's quotas for HTTP APIs (http-api-quotas): per API unless said otherwise.
    static let maximumRoutes = 300
    static let maximumIntegrations = 300
    static let maximumStages = 10
    static let maximumStageVariables = 100
    static let maximumTags = 50
    static let timeoutRange = 50...30_000
    static let defaultTimeoutMillis = 30_000
    static let payloadFormatVersions: Set<String> = ["1.0", "2.0"]
    static let defaultStage = "$default"

    /// `$default`, or 1–128 letters, digits, `-` and `_`.
    static func stageName(_ name: String) throws(APIGatewayError) {
        if name == self.defaultStage { return }
        guard (1...128).contains(name.count),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw .badRequest(
                "Invalid stage name \"\(name)\": a stage name is $default or 1 to 128 letters, digits, hyphens and underscores."
            )
        }
    }

    /// Names of letters, digits and `_`; values of at most 2,048 characters; at most 100 variables.
    static func stageVariables(_ variables: [String: String]) throws(APIGatewayError) {
        guard variables.count <= self.maximumStageVariables else {
            throw .badRequest("A stage may have at most \(self.maximumStageVariables) stage variables.")
        }
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, name.count <= 64,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else {
                throw .badRequest(
                    "Invalid stage variable name \"\(name)\": stage variable names contain only letters, digits and underscores (at most 64)."
                )
            }
            guard value.count <= 2048 else {
                throw .badRequest("Invalid value for stage variable \(name): at most 2048 characters.")
            }
        }
    }

    /// At most 50 tags; keys of 1–128 characters not starting with `aws:`; values of at most 1,600 characters.
    static func tags(_ tags: [String: String]) throws(APIGatewayError) {
        guard tags.count <= self.maximumTags else {
            throw .badRequest("A resource may have at most \(self.maximumTags) tags.")
        }
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            guard (1...128).contains(key.count) else {
                throw .badRequest("Invalid tag key \"\(key)\": tag keys have 1 to 128 characters.")
            }
            guard !key.lowercased().hasPrefix("aws:") else {
                throw .badRequest("Invalid tag key \"\(key)\": the aws: prefix is reserved for AWS use.")
            }
            guard value.count <= 1600 else {
                throw .badRequest("Invalid value for tag \(key): at most 1600 characters.")
            }
        }
    }

    static func payloadFormatVersion(_ version: String) throws(APIGatewayError) {
        guard self.payloadFormatVersions.contains(version) else {
            throw .badRequest(
                "Invalid PayloadFormatVersion \"\(version)\": Lambda proxy integrations of HTTP APIs take 1.0 or 2.0.")
        }
    }

    static func timeout(_ millis: Int) throws(APIGatewayError) {
        guard self.timeoutRange.contains(millis) else {
            throw .badRequest(
                "Invalid TimeoutInMillis \(millis): the integration timeout of an HTTP API must be between 50 and 30000 milliseconds."
            )
        }
    }

    /// An `AWS_PROXY` integration's URI: a function ARN, or API Gateway's Lambda invocation URI around one.
    static func integrationURI(_ uri: String) throws(APIGatewayError) {
        guard FunctionTarget.functionARN(fromIntegrationURI: uri) != nil else {
            throw .badRequest(
                "Invalid IntegrationUri \"\(uri)\": an AWS_PROXY integration takes a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<alias or version>]) or its arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations form."
            )
        }
    }

    /// The `Cors` structure's rules: methods known, origins `*` or `scheme://host[:port]`, `maxAge` -1…86400,
    /// and no credentials with a wildcard origin (browsers refuse that combination).
    static func cors(_ cors: CorsConfiguration) throws(APIGatewayError) {
        if let maxAge = cors.maxAge, !(-1...86_400).contains(maxAge) {
            throw .badRequest("Invalid CorsConfiguration: maxAge must be between -1 and 86400 seconds, not \(maxAge).")
        }
        for method in cors.allowMethods ?? [] where method != "*" {
            guard RouteKey.methods.contains(method.uppercased()), method.uppercased() != "ANY" else {
                throw .badRequest(
                    "Invalid CorsConfiguration: allowMethods takes HTTP methods (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS) or *, not \"\(method)\"."
                )
            }
        }
        for origin in cors.allowOrigins ?? [] where origin != "*" {
            guard let scheme = origin.range(of: "://"), scheme.lowerBound > origin.startIndex,
                scheme.upperBound < origin.endIndex, !origin.contains(where: \.isWhitespace)
            else {
                throw .badRequest(
                    "Invalid CorsConfiguration: allowOrigins takes * or origins such as https://example.com, not \"\(origin)\"."
                )
            }
        }
        for header in (cors.allowHeaders ?? []) + (cors.exposeHeaders ?? []) {
            guard !header.isEmpty, !header.contains(where: { $0.isWhitespace || $0 == ":" }) else {
                throw .badRequest("Invalid CorsConfiguration: \"\(header)\" is not a header name.")
            }
        }
        if cors.allowCredentials == true, (cors.allowOrigins ?? []).contains("*") {
            throw .badRequest(
                "Invalid CorsConfiguration: allowCredentials cannot be true when allowOrigins contains * (name the origins instead)."
            )
        }
    }

    /// Reads a `Cors` structure.
    static func readCors(_ body: RequestBody) throws(APIGatewayError) -> CorsConfiguration {
        let cors = CorsConfiguration(
            allowCredentials: try body.bool("allowCredentials"), allowHeaders: try body.strings("allowHeaders"),
            allowMethods: try body.strings("allowMethods"), allowOrigins: try body.strings("allowOrigins"),
            exposeHeaders: try body.strings("exposeHeaders"), maxAge: try body.integer("maxAge"))
        try self.cors(cors)
        return cors
    }
}

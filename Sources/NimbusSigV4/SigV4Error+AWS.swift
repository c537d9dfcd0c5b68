extension SigV4Error {
    /// The error vocabularies of AWS's services: they name the same failures differently.
    public enum Vocabulary: Sendable, Equatable {
        /// S3 (rest-xml): `SignatureDoesNotMatch`, `InvalidAccessKeyId`, `RequestTimeTooSkewed`, `AccessDenied`, ….
        case s3
        /// The JSON protocols (Lambda, Logs, SQS's JSON): `InvalidSignatureException`,
        /// `UnrecognizedClientException`, `IncompleteSignatureException`, `MissingAuthenticationTokenException`.
        case json
        /// The query protocol (STS, SQS's query form): `SignatureDoesNotMatch`, `InvalidClientTokenId`,
        /// `IncompleteSignature`, `MissingAuthenticationToken`.
        case query
    }

    /// The AWS error code a service of that vocabulary answers with.
    public func code(in vocabulary: Vocabulary) -> String {
        switch (self, vocabulary) {
        case (.missingAuthentication, .s3): "AccessDenied"
        case (.missingAuthentication, .json): "MissingAuthenticationTokenException"
        case (.missingAuthentication, .query): "MissingAuthenticationToken"
        case (.malformedAuthorization(let malformed), .s3):
            malformed.problems.contains(.conflictingMechanisms)
                ? "InvalidArgument"
                : malformed.form == .query ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed"
        case (.malformedAuthorization, .json): "IncompleteSignatureException"
        case (.malformedAuthorization, .query): "IncompleteSignature"
        case (.unknownAccessKey, .s3): "InvalidAccessKeyId"
        case (.invalidSessionToken, .s3): "InvalidToken"
        case (.unknownAccessKey, .json), (.invalidSessionToken, .json): "UnrecognizedClientException"
        case (.unknownAccessKey, .query), (.invalidSessionToken, .query): "InvalidClientTokenId"
        case (.clockSkew, .s3): "RequestTimeTooSkewed"
        case (.expired, .s3), (.headersNotSigned, .s3): "AccessDenied"
        case (.invalidContentSHA256, .s3): "InvalidArgument"
        case (.contentSHA256Mismatch, .s3): "XAmzContentSHA256Mismatch"
        case (.missingContentSHA256, _): "InvalidRequest"
        case (.malformedChunkedBody(.undeclaredTrailer), .s3): "MalformedTrailerError"
        case (.malformedChunkedBody, .s3): "IncompleteBody"
        case (.malformedChunkedBody, .json): "SerializationException"
        case (.malformedChunkedBody, .query): "MalformedInput"
        case (.invalidChecksum, _): "InvalidRequest"
        case (.checksumMismatch, _): "BadDigest"
        case (_, .s3): "SignatureDoesNotMatch"
        case (_, .json): "InvalidSignatureException"
        case (_, .query): "SignatureDoesNotMatch"
        }
    }

    /// AWS's message for the failure, as a service of that vocabulary words it.
    public func message(in vocabulary: Vocabulary) -> String {
        switch self {
        case .missingAuthentication:
            switch vocabulary {
            case .s3: "Access Denied"
            case .json: "Missing Authentication Token"
            case .query: "Request is missing Authentication Token"
            }
        case .malformedAuthorization(let malformed):
            vocabulary == .s3 ? malformed.s3Message : malformed.message
        case .unknownAccessKey:
            vocabulary == .s3
                ? "The AWS Access Key Id you provided does not exist in our records."
                : "The security token included in the request is invalid."
        case .invalidSessionToken:
            vocabulary == .s3
                ? "The provided token is malformed or otherwise invalid."
                : "The security token included in the request is invalid."
        case .signatureMismatch, .chunkSignatureMismatch:
            vocabulary == .s3
                ? "The request signature we calculated does not match the signature you provided. Check your key "
                    + "and signing method."
                : "The request signature we calculated does not match the signature you provided. Check your AWS "
                    + "Secret Access Key and signing method. Consult the service documentation for details."
        case .clockSkew(let skew):
            vocabulary == .s3
                ? "The difference between the request time and the current time is too large." : skew.message
        case .expired:
            "Request has expired"
        case .headersNotSigned:
            "There were headers present in the request which were not signed"
        case .invalidContentSHA256:
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
                + "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 "
                + "value."
        case .contentSHA256Mismatch:
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        case .missingContentSHA256:
            "Missing required header for this request: x-amz-content-sha256"
        case .malformedChunkedBody(let problem):
            problem.message
        case .invalidChecksum(let invalid):
            invalid.message
        case .checksumMismatch(let mismatch):
            "The \(mismatch.algorithm.messageName) you specified did not match the calculated checksum."
        }
    }

    /// The HTTP status AWS answers with: 400 for requests that are malformed (an incomplete signature, broken
    /// framing, a bad digest), 403 for requests that are well-formed but not authenticated, in every vocabulary.
    /// A suggestion: the edge decides.
    public var httpStatus: Int {
        switch self {
        case .malformedAuthorization, .invalidContentSHA256, .missingContentSHA256, .contentSHA256Mismatch,
            .malformedChunkedBody, .invalidChecksum, .checksumMismatch:
            400
        case .missingAuthentication, .unknownAccessKey, .invalidSessionToken, .signatureMismatch, .clockSkew,
            .expired, .headersNotSigned, .chunkSignatureMismatch:
            403
        }
    }

    /// The message as the JSON services word it.
    public var message: String { self.message(in: .json) }
}

extension SigV4Error: CustomStringConvertible {
    public var description: String { "\(self.code(in: .json)): \(self.message)" }
}

extension MalformedAuthorization {
    /// The JSON and query services' message: every problem, then the offending value.
    public var message: String {
        let sentences = self.problems.map { problem -> String in
            switch problem {
            case .missingParameter(let name):
                self.form == .header
                    ? "Authorization header requires '\(name)' parameter."
                    : "AWS query-string parameters must include '\(name)'."
            case .missingDate:
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
            case .malformedDate(let value):
                "Date must be in ISO-8601 'basic format'. Got '\(value)'. See http://en.wikipedia.org/wiki/ISO_8601"
            case .notKeyValuePair(let element):
                "'\(element)' not a valid key=value pair (missing equal-sign) in Authorization header: "
                    + "'\(self.authorization)'."
            case .unsupportedAlgorithm(let algorithm):
                "Unsupported AWS 'algorithm': '\(algorithm)'."
            case .malformedCredential(let credential):
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got "
                    + "'\(credential)'"
            case .invalidTerminator(let terminator):
                "Credential should be scoped with a valid terminator: 'aws4_request', not '\(terminator)'."
            case .scopeDateMismatch(let scopeDate, let timestamp):
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                    + "'\(scopeDate)' != '\(timestamp.prefix(8))', from '\(timestamp)'."
            case .invalidExpires(let value):
                "X-Amz-Expires must be a whole number of seconds from 1 to 604800, got '\(value)'."
            case .hostNotSigned:
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            case .conflictingMechanisms:
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization "
                    + "header should be specified."
            }
        }
        let listsMissing = self.problems.contains {
            if case .missingParameter = $0 { true } else { $0 == .missingDate }
        }
        let suffix = self.form == .header && listsMissing ? " Authorization=\(self.authorization)" : ""
        return sentences.joined(separator: " ") + suffix
    }

    /// S3's message for the first problem.
    var s3Message: String {
        switch self.problems.first {
        case .missingParameter where self.form == .query:
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                + "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        case .missingParameter, .notKeyValuePair:
            "The authorization header is malformed; the authorization header requires three components: "
                + "Credential, SignedHeaders, and Signature."
        case .missingDate, .malformedDate:
            "AWS authentication requires a valid Date or x-amz-date header"
        case .unsupportedAlgorithm:
            self.form == .query
                ? "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""
                : "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
        case .malformedCredential, .invalidTerminator:
            "The authorization header is malformed; the Credential is mal-formed; expecting "
                + "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
        case .scopeDateMismatch:
            "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."
        case .invalidExpires(let value):
            Int(value).map { $0 < 0 } == true
                ? "X-Amz-Expires must be non-negative"
                : "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be "
                    + "less than 604800 seconds"
        case .hostNotSigned:
            "The authorization header is malformed; the SignedHeaders must include host."
        case .conflictingMechanisms:
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
                + "parameter or the Authorization header should be specified"
        case nil:
            "The authorization header is malformed."
        }
    }
}

extension ClockSkew {
    /// `Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z (20150830T130100Z - 15 min.)`, or
    /// `Signature not yet current: … is still later than … (… + 15 min.)` for a request from the future.
    public var message: String {
        let seconds = self.maximumSkew.components.seconds
        let minutes = "\(seconds / 60) min."
        if self.isAhead {
            let limit = self.serverTime.adding(seconds: seconds)
            return "Signature not yet current: \(self.requestTime) is still later than \(limit) "
                + "(\(self.serverTime) + \(minutes))"
        }
        let limit = self.serverTime.adding(seconds: -seconds)
        return "Signature expired: \(self.requestTime) is now earlier than \(limit) (\(self.serverTime) - \(minutes))"
    }
}

extension ChunkedBodyProblem {
    public var message: String {
        switch self {
        case .invalidChunkSize(let offset): "Invalid chunk size at byte \(offset) of the aws-chunked body."
        case .missingChunkSignature(let offset): "Missing chunk-signature at byte \(offset) of the aws-chunked body."
        case .missingCRLF(let offset): "Expected CRLF at byte \(offset) of the aws-chunked body."
        case .truncated: "The request body terminated unexpectedly"
        case .invalidDecodedContentLength(let value): "Invalid x-amz-decoded-content-length: '\(value)'."
        case .exceedsDecodedContentLength(let declared):
            "The aws-chunked body holds more than the \(declared) bytes x-amz-decoded-content-length declared."
        case .decodedContentLengthMismatch:
            "You did not provide the number of bytes specified by the Content-Length HTTP header"
        case .malformedTrailer(let offset): "Malformed trailer at byte \(offset) of the aws-chunked body."
        case .trailingData(let offset): "Unexpected data at byte \(offset), after the end of the aws-chunked body."
        case .undeclaredTrailer:
            "The request contained trailing data that was not well-formed or did not conform to our published schema."
        }
    }
}

extension InvalidChecksum {
    public var message: String {
        switch self {
        case .missing(let name): "The \(name) trailer declared by x-amz-trailer is missing."
        case .unsupportedAlgorithm(let name): "The checksum \(name) is not supported."
        case .malformedValue(let name, _): "Value for \(name) trailing header is invalid."
        }
    }
}

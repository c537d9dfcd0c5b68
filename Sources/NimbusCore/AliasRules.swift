/// AWS's rules for aliases and version references, with AWS's messages (recorded in
/// `test_lambda_api.snapshot.json`, TestLambdaAlias). Pure: no state, no I/O.
///
/// Constraint violations (patterns, lengths, ranges) are `ValidationException`s, collected and reported together as
/// AWS does; semantic problems (too many weights, `$LATEST` with routing, the same version twice) are
/// `InvalidParameterValueException`s.
public enum AliasRules {
    public static let namePattern = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
    public static let versionPattern = #"(\$LATEST|[0-9]+)"#
    public static let maximumNameLength = 128

    /// Constraint violations of an alias name (`Name` in a body or the `{Name}` path label).
    public static func nameViolations(_ name: String) -> [String] {
        var errors: [String] = []
        if name.count > Self.maximumNameLength {
            errors.append(
                "Value '\(name)' at 'name' failed to satisfy constraint: Member must have length less than or equal to \(Self.maximumNameLength)"
            )
        }
        if !Self.isAliasName(name) {
            errors.append(
                "Value '\(name)' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: \(Self.namePattern)"
            )
        }
        return errors
    }

    /// Whether `name` matches `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`: word characters and dashes, not all digits.
    public static func isAliasName(_ name: String) -> Bool {
        !name.isEmpty && !Self.isVersionNumber(name)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Whether `value` is a published version number (`[0-9]+`).
    public static func isVersionNumber(_ value: String) -> Bool {
        !value.isEmpty && value.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Constraint violations of a version reference (`FunctionVersion` of CreateAlias/UpdateAlias/ListAliases).
    public static func versionViolations(_ version: String, member: String = "functionVersion") -> [String] {
        var errors: [String] = []
        if version.count > 1024 {
            errors.append(
                "Value '\(version)' at '\(member)' failed to satisfy constraint: Member must have length less than or equal to 1024"
            )
        }
        if version != "$LATEST" && !Self.isVersionNumber(version) {
            errors.append(
                "Value '\(version)' at '\(member)' failed to satisfy constraint: Member must satisfy regular expression pattern: \(Self.versionPattern)"
            )
        }
        return errors
    }

    /// Reads `RoutingConfig` from a request: `nil` when absent, an empty map when it routes nowhere.
    /// - Throws: `ValidationException` for keys that are not version numbers and weights outside 0…1, in AWS's
    ///   wording (the map is quoted the way AWS's Java service prints it: `{2=2.0}`).
    public static func routingWeights(_ routingConfig: [String: JSONValue]?) throws(NimbusError) -> [String: Double]? {
        let parsed = try Self.parseRoutingWeights(routingConfig)
        if !parsed.violations.isEmpty { throw NimbusError.validation(parsed.violations) }
        return parsed.weights
    }

    /// Like ``routingWeights(_:)``, but returns the constraint violations (to be reported together with those of
    /// other members) instead of throwing them.
    /// - Throws: only for a body that is not shaped like a `RoutingConfig` (wrong member types, unknown members).
    public static func parseRoutingWeights(
        _ routingConfig: [String: JSONValue]?
    ) throws(NimbusError) -> (weights: [String: Double]?, violations: [String]) {
        guard let routingConfig else { return (nil, []) }
        let reader = try RequestReader(
            .object(routingConfig), operation: "RoutingConfig", known: ["AdditionalVersionWeights"])
        guard let raw = try reader.object("AdditionalVersionWeights") else { return ([:], []) }
        var weights: [String: Double] = [:]
        var badValue = false
        for (key, value) in raw {
            guard let weight = value.numberValue else {
                throw NimbusError.invalidParameter(
                    "Could not parse request body into json: the weight of version \(key) in AdditionalVersionWeights must be a number")
            }
            if !(0.0...1.0).contains(weight) { badValue = true }
            weights[key] = weight
        }
        let quoted =
            "{" + weights.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.javaDouble($0.value))" }.joined(separator: ", ")
            + "}"
        var errors: [String] = []
        if weights.keys.contains(where: { !Self.isVersionNumber($0) || $0.count > 1024 }) {
            errors.append(
                "Value '\(quoted)' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"
            )
        }
        if badValue {
            errors.append(
                "Value '\(quoted)' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
            )
        }
        return (weights, errors)
    }

    /// The semantic checks of a routing configuration against the alias's primary version.
    public static func checkRouting(primary: String, weights: [String: Double]) throws(NimbusError) {
        if weights.count > 1 {
            throw NimbusError.invalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
        }
        guard let extra = weights.keys.first else { return }
        if primary == "$LATEST" {
            throw NimbusError.invalidParameter("$LATEST is not supported for an alias pointing to more than 1 version")
        }
        if extra == primary {
            throw NimbusError.invalidParameter(
                "Invalid function version \(extra). Function version \(extra) is already included in routing configuration."
            )
        }
    }

    /// A double as Java's `Double.toString` prints the common cases (`2.0`, `-1.0`, `0.25`).
    static func javaDouble(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e7 { return "\(Int64(value)).0" }
        return "\(value)"
    }
}

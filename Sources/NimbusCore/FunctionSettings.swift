import Foundation

/// The user-settable part of a function's configuration, as parsed from CreateFunction or
/// UpdateFunctionConfiguration and validated against AWS's rules and messages.
public struct FunctionSettings: Sendable, Equatable {
    public var runtime: String?
    public var role: String?
    public var handler: String?
    public var description: String?
    public var timeoutSeconds: Int?
    public var memorySizeMB: Int?
    public var environment: [String: String]?
    public var ephemeralStorageMB: Int?
    public var architectures: [String]?
    public var tracingMode: String?
    public var layers: [String]?
    public var logFormat: String?
    public var applicationLogLevel: String?
    public var systemLogLevel: String?
    public var logGroup: String?
    public var deadLetterTargetArn: String?
    public var kmsKeyArn: String?
    public var vpcConfig: JSONValue?
    public var snapStartApplyOn: String?

    public init() {}

    /// Members of CreateFunctionRequest in the service model.
    public static let createMembers: Set<String> = [
        "FunctionName", "Runtime", "Role", "Handler", "Code", "Description", "Timeout", "MemorySize", "Publish",
        "VpcConfig", "PackageType", "DeadLetterConfig", "Environment", "KMSKeyArn", "TracingConfig", "Tags", "Layers",
        "FileSystemConfigs", "ImageConfig", "CodeSigningConfigArn", "Architectures", "EphemeralStorage", "SnapStart",
        "LoggingConfig", "CapacityProviderConfig", "PublishTo", "DurableConfig", "TenancyConfig",
    ]
    /// Members of UpdateFunctionConfigurationRequest in the service model.
    public static let updateMembers: Set<String> = [
        "Role", "Handler", "Description", "Timeout", "MemorySize", "VpcConfig", "Environment", "Runtime",
        "DeadLetterConfig", "KMSKeyArn", "TracingConfig", "RevisionId", "Layers", "FileSystemConfigs", "ImageConfig",
        "EphemeralStorage", "SnapStart", "LoggingConfig", "CapacityProviderConfig", "DurableConfig",
    ]

    /// Reads and validates the settings members of a request. Every violation found is reported together, as AWS's
    /// validation layer does.
    public static func read(_ r: RequestReader) throws(NimbusError) -> FunctionSettings {
        var s = FunctionSettings()
        var violations: [String] = []
        s.runtime = try r.string("Runtime")
        s.role = try r.string("Role")
        s.handler = try r.string("Handler")
        s.description = try r.string("Description")
        s.timeoutSeconds = try r.int("Timeout")
        s.memorySizeMB = try r.int("MemorySize")
        s.kmsKeyArn = try r.string("KMSKeyArn")
        s.layers = try r.stringList("Layers")
        s.vpcConfig = r.raw("VpcConfig")
        if let env = try r.object("Environment") {
            s.environment = try RequestReader(.object(env), operation: r.operation, known: ["Variables"])
                .stringMap("Variables") ?? [:]
        }
        if let eph = try r.object("EphemeralStorage") {
            s.ephemeralStorageMB = try RequestReader(.object(eph), operation: r.operation, known: ["Size"]).int("Size")
        }
        if let tracing = try r.object("TracingConfig") {
            s.tracingMode = try RequestReader(.object(tracing), operation: r.operation, known: ["Mode"]).string("Mode")
        }
        if let dlq = try r.object("DeadLetterConfig") {
            let target = try RequestReader(.object(dlq), operation: r.operation, known: ["TargetArn"]).string("TargetArn")
            s.deadLetterTargetArn = target ?? ""
        }
        if let snap = try r.object("SnapStart") {
            s.snapStartApplyOn = try RequestReader(.object(snap), operation: r.operation, known: ["ApplyOn"]).string(
                "ApplyOn")
        }
        if let logging = try r.object("LoggingConfig") {
            let lr = try RequestReader(
                .object(logging), operation: r.operation,
                known: ["LogFormat", "ApplicationLogLevel", "SystemLogLevel", "LogGroup"])
            s.logFormat = try lr.string("LogFormat")
            s.applicationLogLevel = try lr.string("ApplicationLogLevel")
            s.systemLogLevel = try lr.string("SystemLogLevel")
            s.logGroup = try lr.string("LogGroup")
        }
        if r.has("Architectures") { s.architectures = try r.stringList("Architectures") }

        if let memory = s.memorySizeMB {
            if memory < Limits.minimumMemoryMB {
                violations.append(
                    "Value '\(memory)' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to \(Limits.minimumMemoryMB)"
                )
            } else if memory > Limits.maximumMemoryMB {
                violations.append(
                    "Value '\(memory)' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to \(Limits.maximumMemoryMB)"
                )
            }
        }
        if let timeout = s.timeoutSeconds {
            if timeout < Limits.minimumTimeoutSeconds {
                violations.append(
                    "Value '\(timeout)' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to \(Limits.minimumTimeoutSeconds)"
                )
            } else if timeout > Limits.maximumTimeoutSeconds {
                violations.append(
                    "Value '\(timeout)' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to \(Limits.maximumTimeoutSeconds)"
                )
            }
        }
        if let size = s.ephemeralStorageMB {
            if size < Limits.minimumEphemeralStorageMB {
                violations.append(
                    "Value '\(size)' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value greater than or equal to \(Limits.minimumEphemeralStorageMB)"
                )
            } else if size > Limits.maximumEphemeralStorageMB {
                violations.append(
                    "Value '\(size)' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value less than or equal to \(Limits.maximumEphemeralStorageMB)"
                )
            }
        }
        if let handler = s.handler {
            if handler.count > Limits.maximumHandlerLength {
                violations.append(
                    "Value '\(handler)' at 'handler' failed to satisfy constraint: Member must have length less than or equal to \(Limits.maximumHandlerLength)"
                )
            } else if handler.isEmpty || handler.contains(where: { $0.isWhitespace }) {
                violations.append(
                    #"Value '\#(handler)' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\s]+"#
                )
            }
        }
        if let description = s.description, description.count > Limits.maximumDescriptionLength {
            violations.append(
                "Value '\(description)' at 'description' failed to satisfy constraint: Member must have length less than or equal to \(Limits.maximumDescriptionLength)"
            )
        }
        if let role = s.role, !Self.isRoleARN(role) {
            violations.append(
                #"Value '\#(role)' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"#
            )
        }
        if let mode = s.tracingMode, mode != "Active", mode != "PassThrough" {
            violations.append(
                "Value '\(mode)' at 'tracingConfig.mode' failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]"
            )
        }
        if let format = s.logFormat, format != "Text", format != "JSON" {
            violations.append(
                "Value '\(format)' at 'loggingConfig.logFormat' failed to satisfy constraint: Member must satisfy enum value set: [Text, JSON]"
            )
        }
        if let arch = s.architectures {
            if arch.count != 1 {
                violations.append(
                    "Value '[\(arch.joined(separator: ", "))]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"
                )
            } else if arch[0] != "x86_64" && arch[0] != "arm64" {
                violations.append(
                    "Value '[\(arch[0])]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]"
                )
            }
        }
        if let keys = s.environment?.keys {
            for key in keys.sorted() where !Self.isEnvironmentKey(key) {
                violations.append(
                    "Value '\(key)' at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
                )
            }
        }
        if !violations.isEmpty { throw NimbusError.validation(violations) }

        if let runtime = s.runtime {
            if RuntimeCatalog.deprecated.contains(runtime) {
                throw NimbusError.invalidParameter(
                    "The runtime parameter of \(runtime) is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
                )
            }
            if !RuntimeCatalog.accepted.contains(runtime) {
                throw NimbusError.invalidParameter(
                    "Value \(runtime) at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \(RuntimeCatalog.enumValueSetMessage) or be a valid ARN"
                )
            }
        }
        if let env = s.environment {
            let reserved = env.keys.filter { Limits.reservedEnvironmentKeys.contains($0) }.sorted()
            if !reserved.isEmpty {
                throw NimbusError.invalidParameter(
                    "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: \(reserved.joined(separator: ", "))"
                )
            }
            let order = r.rawBody.flatMap { JSONKeyOrder.keys(at: ["Environment", "Variables"], in: $0) }
            let measured = Self.measuredEnvironment(env, order: order)
            if measured.utf8.count > Limits.environmentBytes {
                throw NimbusError.invalidParameter(
                    "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: \(measured)"
                )
            }
        }
        if let layers = s.layers, layers.count > Limits.maximumLayers {
            throw NimbusError.invalidParameter("Cannot reference more than 5 layers.")
        }
        if let layers = s.layers, !layers.isEmpty {
            throw NimbusError.invalidParameter(
                "Layer version \(layers[0]) does not exist.")
        }
        return s
    }

    /// The JSON text AWS measures against the 4 KB limit.
    /// Compact JSON of the map, keys in request order when known (sorted otherwise).
    static func measuredEnvironment(_ env: [String: String], order: [String]?) -> String {
        var keys = (order ?? []).filter { env[$0] != nil }
        if keys.count != env.count { keys = env.keys.sorted() }
        let members = keys.map { key in
            String(decoding: JSONValue.string(key).serialized(), as: UTF8.self) + ":"
                + String(decoding: JSONValue.string(env[key]!).serialized(), as: UTF8.self)
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func isEnvironmentKey(_ key: String) -> Bool {
        guard key.count >= 2, let first = key.first, first.isASCII, first.isLetter else { return false }
        return key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    static func isRoleARN(_ role: String) -> Bool {
        let parts = role.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "iam", parts[3].isEmpty,
            parts[4].count == 12, parts[4].allSatisfy({ $0.isASCII && $0.isNumber })
        else { return false }
        let resource = parts[5]
        guard resource.hasPrefix("role"), resource.count > 5 else { return false }
        let allowed = Set("+=,.@-_/")
        return resource.dropFirst(4).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || allowed.contains($0)) }
    }

    /// Applies these settings over an existing configuration (UpdateFunctionConfiguration semantics: a given
    /// member replaces the old value whole; `Environment` and `Layers` replace the whole map or list).
    public func apply(to c: inout FunctionConfiguration) {
        if let v = self.runtime { c.runtime = v }
        if let v = self.role { c.role = v }
        if let v = self.handler { c.handler = v }
        if let v = self.description { c.description = v }
        if let v = self.timeoutSeconds { c.timeoutSeconds = v }
        if let v = self.memorySizeMB { c.memorySizeMB = v }
        if let v = self.environment { c.environment = v }
        if let v = self.ephemeralStorageMB { c.ephemeralStorageMB = v }
        if let v = self.architectures { c.architectures = v }
        if let v = self.tracingMode { c.tracingMode = v }
        if let v = self.layers { c.layers = v }
        if let v = self.logFormat { c.logFormat = v }
        if let v = self.applicationLogLevel { c.applicationLogLevel = v }
        if let v = self.systemLogLevel { c.systemLogLevel = v }
        if let v = self.logGroup { c.logGroup = v }
        if let v = self.deadLetterTargetArn { c.deadLetterTargetArn = v.isEmpty ? nil : v }
        if let v = self.kmsKeyArn { c.kmsKeyArn = v.isEmpty ? nil : v }
        if let v = self.vpcConfig { c.vpcConfig = v }
        if let v = self.snapStartApplyOn { c.snapStartApplyOn = v }
    }
}

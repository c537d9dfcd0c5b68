import Foundation

/// The stored configuration of one function version. Persisted as JSON by the store; rendered in AWS's
/// `FunctionConfiguration` wire shape by ``wire(account:listing:)``.
public struct FunctionConfiguration: Codable, Sendable, Equatable {
    public var name: String
    /// `$LATEST` or a published version number.
    public var version: String
    public var runtime: String?
    public var role: String
    public var handler: String?
    public var description: String
    public var timeoutSeconds: Int
    public var memorySizeMB: Int
    public var environment: [String: String]
    public var ephemeralStorageMB: Int
    public var architectures: [String]
    public var tracingMode: String
    public var layers: [String]
    public var logFormat: String
    public var applicationLogLevel: String?
    public var systemLogLevel: String?
    public var logGroup: String?
    public var deadLetterTargetArn: String?
    public var kmsKeyArn: String?
    /// Accepted and echoed, not acted on (Nimbus has no VPCs).
    public var vpcConfig: JSONValue?
    public var snapStartApplyOn: String
    public var packageType: String
    public var code: CodeInfo
    /// Milliseconds since the Unix epoch.
    public var lastModifiedMillis: Int64
    public var revisionID: String

    /// A content-addressed code package.
    public struct CodeInfo: Codable, Sendable, Equatable, Hashable {
        /// Lowercase hex SHA-256 of the zip: the key of the package in the code store.
        public var digestHex: String
        /// Base64 SHA-256 of the zip, as AWS reports `CodeSha256`.
        public var sha256Base64: String
        /// Size of the zip in bytes.
        public var size: Int
        /// Total size of the unpacked files in bytes.
        public var unzippedSize: Int

        public init(digestHex: String, sha256Base64: String, size: Int, unzippedSize: Int) {
            self.digestHex = digestHex
            self.sha256Base64 = sha256Base64
            self.size = size
            self.unzippedSize = unzippedSize
        }
    }

    public init(
        name: String,
        version: String = "$LATEST",
        runtime: String?,
        role: String,
        handler: String?,
        description: String = "",
        timeoutSeconds: Int = Limits.defaultTimeoutSeconds,
        memorySizeMB: Int = Limits.defaultMemoryMB,
        environment: [String: String] = [:],
        ephemeralStorageMB: Int = Limits.defaultEphemeralStorageMB,
        architectures: [String] = ["x86_64"],
        tracingMode: String = "PassThrough",
        layers: [String] = [],
        logFormat: String = "Text",
        applicationLogLevel: String? = nil,
        systemLogLevel: String? = nil,
        logGroup: String? = nil,
        deadLetterTargetArn: String? = nil,
        kmsKeyArn: String? = nil,
        vpcConfig: JSONValue? = nil,
        snapStartApplyOn: String = "None",
        packageType: String = "Zip",
        code: CodeInfo,
        lastModifiedMillis: Int64,
        revisionID: String
    ) {
        self.name = name
        self.version = version
        self.runtime = runtime
        self.role = role
        self.handler = handler
        self.description = description
        self.timeoutSeconds = timeoutSeconds
        self.memorySizeMB = memorySizeMB
        self.environment = environment
        self.ephemeralStorageMB = ephemeralStorageMB
        self.architectures = architectures
        self.tracingMode = tracingMode
        self.layers = layers
        self.logFormat = logFormat
        self.applicationLogLevel = applicationLogLevel
        self.systemLogLevel = systemLogLevel
        self.logGroup = logGroup
        self.deadLetterTargetArn = deadLetterTargetArn
        self.kmsKeyArn = kmsKeyArn
        self.vpcConfig = vpcConfig
        self.snapStartApplyOn = snapStartApplyOn
        self.packageType = packageType
        self.code = code
        self.lastModifiedMillis = lastModifiedMillis
        self.revisionID = revisionID
    }

    /// The log group invocations of this function write to.
    public var effectiveLogGroup: String { self.logGroup ?? "/aws/lambda/\(self.name)" }

    /// States reported on the wire. Nimbus finishes creating and updating before it answers, so stored
    /// configurations are always `Active`/`Successful`; the create and update responses report the transitional
    /// values AWS reports (`Pending`, `InProgress`).
    public enum ReportedState: Sendable {
        case stored
        case creating
        case updating
    }

    /// How `FunctionArn` is qualified in a response.
    public enum ARNStyle: Sendable, Equatable {
        /// `:N` for a published version, unqualified for `$LATEST` (Create, Get without a qualifier).
        case natural
        /// Always `:version`, `$LATEST` included (ListVersionsByFunction, ListFunctions with `ALL`).
        case versioned
        /// Never qualified, whatever the version (the CreateFunction response with `Publish`).
        case unqualified
        /// `:qualifier` exactly as the caller named it: an alias, or an explicit `$LATEST`.
        case qualified(String)
    }

    /// The `FunctionArn` of this configuration in the given style.
    public func arn(account: AccountContext, style: ARNStyle = .natural) -> String {
        switch style {
        case .natural: account.functionARN(self.name, qualifier: self.version == "$LATEST" ? nil : self.version)
        case .versioned: account.functionARN(self.name, qualifier: self.version)
        case .unqualified: account.functionARN(self.name)
        case .qualified(let qualifier): account.functionARN(self.name, qualifier: qualifier)
        }
    }

    /// The AWS `FunctionConfiguration` shape.
    /// - Parameters:
    ///   - listing: ListFunctions omits State*, LastUpdateStatus* and RuntimeVersionConfig.
    ///   - arn: how `FunctionArn` is qualified.
    public func wire(
        account: AccountContext,
        state: ReportedState = .stored,
        listing: Bool = false,
        arn: ARNStyle = .natural
    ) -> JSONValue {
        var o: [String: JSONValue] = [
            "FunctionName": .string(self.name),
            "FunctionArn": .string(self.arn(account: account, style: arn)),
            "Role": .string(self.role),
            "CodeSize": .number(Double(self.code.size)),
            "Description": .string(self.description),
            "Timeout": .number(Double(self.timeoutSeconds)),
            "MemorySize": .number(Double(self.memorySizeMB)),
            "LastModified": .string(Timestamp.awsString(millis: self.lastModifiedMillis)),
            "CodeSha256": .string(self.code.sha256Base64),
            "Version": .string(self.version),
            "Environment": .object(["Variables": .object(self.environment.mapValues { .string($0) })]),
            "TracingConfig": .object(["Mode": .string(self.tracingMode)]),
            "RevisionId": .string(self.revisionID),
            "PackageType": .string(self.packageType),
            "Architectures": .array(self.architectures.map { .string($0) }),
            "EphemeralStorage": .object(["Size": .number(Double(self.ephemeralStorageMB))]),
            "SnapStart": .object(["ApplyOn": .string(self.snapStartApplyOn), "OptimizationStatus": "Off"]),
        ]
        var logging: [String: JSONValue] = [
            "LogFormat": .string(self.logFormat), "LogGroup": .string(self.effectiveLogGroup),
        ]
        if let level = self.applicationLogLevel { logging["ApplicationLogLevel"] = .string(level) }
        if let level = self.systemLogLevel { logging["SystemLogLevel"] = .string(level) }
        o["LoggingConfig"] = .object(logging)
        if let runtime = self.runtime {
            o["Runtime"] = .string(runtime)
            if !listing {
                o["RuntimeVersionConfig"] = .object([
                    "RuntimeVersionArn": .string("arn:aws:lambda:\(account.region)::runtime:\(Self.runtimeVersionID(runtime))")
                ])
            }
        }
        if let handler = self.handler { o["Handler"] = .string(handler) }
        if !self.layers.isEmpty {
            o["Layers"] = .array(self.layers.map { .object(["Arn": .string($0), "CodeSize": 0]) })
        }
        if let dlq = self.deadLetterTargetArn { o["DeadLetterConfig"] = .object(["TargetArn": .string(dlq)]) }
        if let kms = self.kmsKeyArn { o["KMSKeyArn"] = .string(kms) }
        if let vpc = self.vpcConfig { o["VpcConfig"] = vpc }
        if !listing {
            switch state {
            case .creating:
                o["State"] = "Pending"
                o["StateReason"] = "The function is being created."
                o["StateReasonCode"] = "Creating"
            case .updating:
                o["State"] = "Active"
                o["LastUpdateStatus"] = "InProgress"
                o["LastUpdateStatusReason"] = "The function is being created."
                o["LastUpdateStatusReasonCode"] = "Creating"
            case .stored:
                o["State"] = "Active"
                o["LastUpdateStatus"] = "Successful"
            }
        }
        return .object(o)
    }

    /// A stable 64-hex runtime version id per runtime name, like AWS's `RuntimeVersionArn` suffix.
    static func runtimeVersionID(_ runtime: String) -> String {
        Digest.sha256Hex(Array("nimbus-runtime:\(runtime)".utf8))
    }
}

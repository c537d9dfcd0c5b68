import Foundation
import Logging
import NimbusEdge
import NIOCore
import NimbusCore
import NimbusInvoker
import NimbusQueue
import NimbusSQS
import NimbusStore

/// The Lambda API (2015-03-31 and friends): its operations on typed requests, calling the registry and the
/// invoker. The edge routes, authenticates, decodes and encodes; nothing here knows HTTP.
public struct LambdaAPI: Sendable {
    let registry: FunctionRegistry
    let catalog: FunctionCatalog
    let invoker: Invoker
    /// Function credentials die with their function.
    let credentials: CredentialStore
    let codeStore: CodeStore
    let account: AccountContext
    let logger: Logger
    /// The durable queue behind `Event` invocations.
    let eventQueue: EventQueue
    /// SQS, where destination records and dead letters go.
    let queues: SQSService
    /// Where `Code.S3Bucket` packages are read.
    let packages: PackageSlot
    /// Where event-bus destinations publish.
    let eventBuses: EventBusSlot
    /// A uniform random number in `0..<1` per invocation of an alias with routing (injectable for tests).
    let random: @Sendable () -> Double

    /// - Parameter random: the source alias routing draws from; the default is the system generator.
    public init(
        registry: FunctionRegistry, invoker: Invoker, codeStore: CodeStore, account: AccountContext,
        credentials: CredentialStore, logger: Logger, eventQueue: EventQueue, queues: SQSService, packages: PackageSlot, eventBuses: EventBusSlot, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.random = random
        self.eventQueue = eventQueue
        self.queues = queues
        self.packages = packages
        self.eventBuses = eventBuses
        self.registry = registry
        self.catalog = registry.catalog
        self.invoker = invoker
        self.credentials = credentials
        self.codeStore = codeStore
        self.account = account
        self.logger = logger
    }

    // MARK: Body helpers

    /// The body, refused beyond `limit` (the edge collected up to the operation's largest).
    static func collect(_ p: ServiceRequest, limit: Int, operation: String) throws -> ByteBuffer {
        guard p.body.readableBytes <= limit else {
            throw NimbusError(.requestTooLarge, "Request must be smaller than \(limit) bytes for the \(operation) operation")
        }
        return p.body
    }

    static func jsonBody(_ p: ServiceRequest, limit: Int = 1_048_576, operation: String) throws -> (JSONValue, [UInt8]) {
        let buffer = try Self.collect(p, limit: limit, operation: operation)
        if buffer.readableBytes == 0 { return (.object([:]), []) }
        guard let json = JSONValue.parse(buffer.readableBytesView) else {
            throw NimbusError(
                .invalidRequestContent, "Could not parse request body into json: the body of \(operation) is not valid JSON")
        }
        return (json, Array(buffer.readableBytesView))
    }

    /// Resolves `{Fn}` plus the `Qualifier` parameter (or a `:qualifier` suffix) to `$LATEST`, a published version
    /// or an alias.
    /// - Parameter invoking: Invoke's "not found" names `:$LATEST` when no qualifier was given, as AWS's does.
    func resolve(_ raw: String, qualifier: String?, invoking: Bool = false) throws -> ResolvedFunction {
        let id = try FunctionIdentifier.parse(raw).resolvingQualifier(qualifier)
        try self.checkRegion(id)
        guard let function = self.catalog.get(id.name) else {
            throw self.account.notFound(id.name, qualifier: id.qualifier ?? (invoking ? "$LATEST" : nil))
        }
        guard let q = id.qualifier else {
            return ResolvedFunction(function: function, configuration: function.configuration, qualifier: nil, alias: nil)
        }
        if let config = function.version(q) {
            return ResolvedFunction(function: function, configuration: config, qualifier: q, alias: nil)
        }
        if let alias = function.alias(q), let config = function.version(alias.functionVersion) {
            return ResolvedFunction(function: function, configuration: config, qualifier: q, alias: alias)
        }
        throw self.account.notFound(id.name, qualifier: q)
    }

    func checkRegion(_ id: FunctionIdentifier) throws {
        if let region = id.region, region != self.account.region {
            throw NimbusError(
                .resourceNotFound, "Functions from '\(region)' are not reachable in this region ('\(self.account.region)')")
        }
    }

    static func decodeZip(_ base64: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: base64) else {
            throw NimbusError.invalidParameter(
                "Could not unzip uploaded file. Please check your file, then try to upload again.")
        }
        return Array(data)
    }

    // MARK: Functions

    func createFunction(_ p: ServiceRequest) async throws -> ServiceResponse {
        let (body, raw) = try Self.jsonBody(p, limit: Limits.maximumCreateFunctionRequestBytes, operation: "CreateFunction")
        let r = try RequestReader(body, operation: "CreateFunction", known: FunctionSettings.createMembers, rawBody: raw)
        guard let rawName = try r.string("FunctionName") else {
            throw NimbusError.validation([
                "Value null at 'functionName' failed to satisfy constraint: Member must not be null"
            ])
        }
        let id = try FunctionIdentifier.parse(rawName, usage: .create)
        try self.checkRegion(id)
        let settings = try FunctionSettings.read(r)
        if let packageType = try r.string("PackageType"), packageType != "Zip" {
            throw NimbusError.invalidParameter(
                "Nimbus runs .zip deployment packages only; PackageType \(packageType) (container images) is not supported.")
        }
        guard let code = try r.object("Code") else {
            throw NimbusError.validation(["Value null at 'code' failed to satisfy constraint: Member must not be null"])
        }
        let zip = try await self.zip(fromCode: code, operation: "CreateFunction")
        let tags = try r.stringMap("Tags") ?? [:]
        let config = try await self.registry.create(
            name: id.name, settings: settings, zip: zip, tags: tags, publish: try r.bool("Publish") ?? false)
        // With Publish, AWS reports Version "1" but the unqualified FunctionArn (recorded: test_publish_version_on_create).
        return ServiceResponse.document(
            201, config.wire(account: self.account, state: .creating, arn: .unqualified))
    }

    /// The package a `Code` names: inline (`ZipFile`) or an S3 object (`S3Bucket`, `S3Key`, `S3ObjectVersion`).
    func zip(fromCode code: [String: JSONValue], operation: String) async throws -> [UInt8] {
        let c = try RequestReader(
            .object(code), operation: operation,
            known: ["ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri", "SourceKMSKeyArn"])
        if let zipFile = try c.string("ZipFile") { return try Self.decodeZip(zipFile) }
        if c.has("ImageUri") {
            throw NimbusError.invalidParameter(
                "Nimbus runs .zip deployment packages only; container images (ImageUri) are not supported.")
        }
        if let bucket = try c.string("S3Bucket"), let key = try c.string("S3Key") {
            guard let source = self.packages.source.withLock({ $0 }) else {
                throw NimbusError(.service, "S3 is not available on this server: send the package as ZipFile.")
            }
            do {
                return try await source.package(
                    bucket: bucket, key: key, version: try c.string("S3ObjectVersion"), namespace: self.account,
                    limit: Limits.maximumUnzippedCodeBytes)
            } catch let error as PackageSourceError {
                if error.code == "EntityTooLarge" {
                    throw NimbusError.invalidParameter(
                        "Unzipped size must be smaller than \(Limits.maximumUnzippedCodeBytes) bytes")
                }
                throw NimbusError.invalidParameter(
                    "Error occurred while GetObject. S3 Error Code: \(error.code). S3 Error Message: \(error.message)")
            }
        }
        throw NimbusError.invalidParameter("Please provide a source for function code.")
    }

    func listFunctions(_ p: ServiceRequest) throws -> ServiceResponse {
        if let version = p.queryValue("FunctionVersion"), version != "ALL" {
            throw NimbusError.validation([
                "Value '\(version)' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
            ])
        }
        let all = p.queryValue("FunctionVersion") == "ALL"
        let maxItems = try Self.maxItems(p, upper: 10_000)
        let pageSize = min(maxItems ?? Limits.listPageSize, Limits.listPageSize)
        // Entries in (name, version order) order: with ALL, each function's $LATEST (order 0) and its versions.
        var entries: [(order: Int, config: FunctionConfiguration)] = []
        for function in self.catalog.all() {
            entries.append((0, function.configuration))
            if all { entries += function.versions.map { ($0.number, $0.configuration) } }
        }
        if let marker = p.queryValue("Marker"), !marker.isEmpty {
            guard let decoded = Self.decodeMarker(marker) else {
                throw NimbusError.invalidParameter("Invalid pagination marker: \(marker)")
            }
            // "name" (one entry per function) or "name:order" (ALL): resume after that entry.
            let parts = decoded.split(separator: ":", maxSplits: 1).map(String.init)
            let after = (name: parts.first ?? "", order: parts.count > 1 ? Int(parts[1]) ?? Int.max : Int.max)
            entries = entries.filter { ($0.config.name, $0.order) > (after.name, after.order) }
        }
        let page = Array(entries.prefix(pageSize))
        var body: [String: JSONValue] = [
            "Functions": .array(
                page.map { $0.config.wire(account: self.account, listing: true, arn: all ? .versioned : .natural) })
        ]
        if entries.count > page.count, let last = page.last {
            body["NextMarker"] = .string(
                Self.encodeMarker(all ? "\(last.config.name):\(last.order)" : last.config.name))
        }
        return ServiceResponse.document(200, .object(body))
    }

    static func maxItems(_ p: ServiceRequest, upper: Int) throws -> Int? {
        guard let raw = p.queryValue("MaxItems") else { return nil }
        guard let value = Int(raw), value >= 1, value <= upper else {
            throw NimbusError.validation([
                "Value '\(raw)' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and \(upper)"
            ])
        }
        return value
    }

    static func encodeMarker(_ name: String) -> String { Data(name.utf8).base64EncodedString() }

    static func decodeMarker(_ marker: String) -> String? {
        Data(base64Encoded: marker).map { String(decoding: $0, as: UTF8.self) }
    }

    func getFunction(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let target = try self.resolve(name, qualifier: p.queryValue("Qualifier"))
        let host = p.host
        var body: [String: JSONValue] = [
            "Configuration": target.configuration.wire(account: self.account, arn: target.arnStyle),
            "Code": [
                "RepositoryType": "S3",
                "Location": .string("http://\(host)/_nimbus/code/\(target.configuration.code.digestHex).zip"),
            ],
        ]
        let function = target.function
        if !function.tags.isEmpty { body["Tags"] = .object(function.tags.mapValues { .string($0) }) }
        if let reserved = function.reservedConcurrency {
            body["Concurrency"] = ["ReservedConcurrentExecutions": .number(Double(reserved))]
        }
        return ServiceResponse.document(200, .object(body))
    }

    func getConfiguration(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let target = try self.resolve(name, qualifier: p.queryValue("Qualifier"))
        return ServiceResponse.document(
            200, target.configuration.wire(account: self.account, arn: target.arnStyle))
    }

    /// `DeleteFunction`: the whole function (with its versions and aliases), or with a qualifier one version.
    func deleteFunction(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let id = try FunctionIdentifier.parse(name).resolvingQualifier(p.queryValue("Qualifier"))
        try self.checkRegion(id)
        if id.qualifier == "$LATEST" {
            throw NimbusError.invalidParameter("$LATEST version cannot be deleted without deleting the function.")
        }
        if let q = id.qualifier, !AliasRules.isVersionNumber(q) {
            throw NimbusError.invalidParameter("Deletion of aliases is not currently supported.")
        }
        guard self.catalog.get(id.name) != nil else { throw self.account.notFound(id.name) }
        if let version = id.qualifier {
            try await self.registry.deleteVersion(name: id.name, version: version)
        } else {
            try await self.registry.delete(name: id.name)
            self.credentials.revoke(function: id.name, namespace: self.account)
        }
        return ServiceResponse.empty(204)
    }

    func unqualifiedName(_ raw: String) throws -> String {
        let id = try FunctionIdentifier.parse(raw)
        try self.checkRegion(id)
        if let q = id.qualifier {
            guard self.catalog.get(id.name) != nil else { throw self.account.notFound(id.name, qualifier: q) }
            throw NimbusError.invalidParameter(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN."
            )
        }
        return id.name
    }

    func updateConfiguration(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        let (body, raw) = try Self.jsonBody(p, operation: "UpdateFunctionConfiguration")
        let r = try RequestReader(
            body, operation: "UpdateFunctionConfiguration", known: FunctionSettings.updateMembers, rawBody: raw)
        let settings = try FunctionSettings.read(r)
        let config = try await self.registry.updateConfiguration(
            name: fn, settings: settings, revisionID: try r.string("RevisionId"))
        return ServiceResponse.document(200, config.wire(account: self.account, state: .updating))
    }

    func updateCode(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        let (body, _) = try Self.jsonBody(p, limit: Limits.maximumCreateFunctionRequestBytes, operation: "UpdateFunctionCode")
        let r = try RequestReader(
            body, operation: "UpdateFunctionCode",
            known: [
                "ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri", "Publish", "DryRun", "RevisionId",
                "Architectures", "SourceKMSKeyArn", "PublishTo",
            ])
        guard self.catalog.get(fn) != nil else { throw self.account.notFound(fn) }
        var code: [String: JSONValue] = [:]
        for key in ["ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri"] {
            if let v = r.raw(key) { code[key] = v }
        }
        if code["ImageUri"] != nil {
            throw NimbusError.invalidParameter("Please don't provide ImageUri when updating a function with packageType Zip.")
        }
        let zip = try await self.zip(fromCode: code, operation: "UpdateFunctionCode")
        var architectures: [String]?
        if r.has("Architectures") {
            let check = try RequestReader(
                .object(["Architectures": r.raw("Architectures")!]), operation: "UpdateFunctionCode",
                known: ["Architectures"])
            architectures = try FunctionSettings.read(check).architectures
        }
        let dryRun = try r.bool("DryRun") ?? false
        let publish = try r.bool("Publish") ?? false
        let config = try await self.registry.updateCode(
            name: fn, zip: zip, architectures: architectures, revisionID: try r.string("RevisionId"),
            dryRun: dryRun, publish: publish)
        // With Publish the response is the new version's, still Pending (recorded: test_publish_with_update).
        let state: FunctionConfiguration.ReportedState = publish && !dryRun ? .creating : .updating
        return ServiceResponse.document(200, config.wire(account: self.account, state: state))
    }

    func downloadCode(_ file: String, _ p: ServiceRequest) async throws -> ServiceResponse {
        let digest = file.hasSuffix(".zip") ? String(file.dropLast(4)) : file
        guard digest.count == 64, digest.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
            let data = FileManager.default.contents(atPath: self.codeStore.zipPath(for: digest))
        else {
            throw NimbusError(.resourceNotFound, "The code package \(file) does not exist.")
        }
        return .bytes(200, ByteBuffer(bytes: data), contentType: "application/zip")
    }

    // MARK: Account and tags

    func accountSettings(_ p: ServiceRequest) -> ServiceResponse {
        let functions = self.catalog.all()
        let total = functions.reduce(0) { $0 + $1.configuration.code.size }
        let body: JSONValue = [
            "AccountLimit": [
                "TotalCodeSize": .number(Double(Limits.totalCodeStorageBytes)),
                "CodeSizeUnzipped": .number(Double(Limits.maximumUnzippedCodeBytes)),
                "CodeSizeZipped": .number(Double(Limits.maximumZippedCodeBytes)),
                "ConcurrentExecutions": .number(Double(self.invoker.accountConcurrencyLimit)),
                "UnreservedConcurrentExecutions": .number(
                    Double(self.invoker.accountConcurrencyLimit - self.registry.reservedConcurrencyTotal())),
            ],
            "AccountUsage": ["TotalCodeSize": .number(Double(total)), "FunctionCount": .number(Double(functions.count))],
        ]
        return ServiceResponse.document(200, body)
    }

    func taggedFunction(_ arn: String) throws -> String {
        let id = try FunctionIdentifier.parse(arn)
        try self.checkRegion(id)
        if id.qualifier != nil {
            throw NimbusError.invalidParameter(
                "Tags on function aliases and versions are not supported. Please specify a function ARN.")
        }
        guard self.catalog.get(id.name) != nil else { throw self.account.notFound(id.name) }
        return id.name
    }

    func tagResource(_ p: ServiceRequest, arn: String) async throws -> ServiceResponse {
        let name = try self.taggedFunction(arn)
        let (body, _) = try Self.jsonBody(p, operation: "TagResource")
        let r = try RequestReader(body, operation: "TagResource", known: ["Tags"])
        guard let tags = try r.stringMap("Tags") else {
            throw NimbusError.validation(["Value null at 'tags' failed to satisfy constraint: Member must not be null"])
        }
        try await self.registry.tag(name: name, tags: tags)
        return ServiceResponse.empty(204)
    }

    func untagResource(_ p: ServiceRequest, arn: String) async throws -> ServiceResponse {
        let name = try self.taggedFunction(arn)
        let keys = p.queryValues("tagKeys")
        if keys.isEmpty {
            throw NimbusError.validation([
                "Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"
            ])
        }
        try await self.registry.untag(name: name, keys: keys)
        return ServiceResponse.empty(204)
    }

    func listTags(_ p: ServiceRequest, arn: String) throws -> ServiceResponse {
        let name = try self.taggedFunction(arn)
        let tags = self.catalog.get(name)?.tags ?? [:]
        return ServiceResponse.document(200, ["Tags": .object(tags.mapValues { .string($0) })])
    }
}

import Foundation
import Logging
import NIOPosix
import NimbusCore
import NimbusInvoker
import NimbusSandbox
import NimbusStore
import Synchronization

/// The in-memory view of every function, read on the invocation path without touching the database.
public final class FunctionCatalog: Sendable {
    let functions = Mutex<[String: StoredFunction]>([:])

    public init() {}

    public func get(_ name: String) -> StoredFunction? {
        self.functions.withLock { $0[name] }
    }

    /// Every function sorted by name (the order ListFunctions pages through).
    public func all() -> [StoredFunction] {
        self.functions.withLock { $0.values.sorted { $0.configuration.name < $1.configuration.name } }
    }

    func put(_ function: StoredFunction) {
        self.functions.withLock { $0[function.configuration.name] = function }
    }

    func remove(_ name: String) {
        _ = self.functions.withLock { $0.removeValue(forKey: name) }
    }
}

/// Owns every change to functions: validates against the current state, persists (SQLite, code store), updates the
/// catalog and tells the invoker. One actor, so that changes to a function are serialised and a reader never sees
/// a half-made change.
public actor FunctionRegistry {
    let store: any FunctionStore
    let codeStore: CodeStore
    public nonisolated let catalog: FunctionCatalog
    /// Asynchronous-invocation settings per function and qualifier (FunctionRegistry+EventInvokeConfig.swift).
    public nonisolated let eventInvokeConfigs = EventInvokeConfigCatalog()
    let invoker: Invoker
    let account: AccountContext
    let logger: Logger
    /// Whether any function (of any namespace) still refers to a code package.
    let codeInUse: @Sendable (String) -> Bool
    /// Function URL ids of every namespace (FunctionRegistry+Permissions.swift).
    public nonisolated let urlIndex: FunctionURLIndex
    /// Functions with a change under way. A change suspends while it writes; a second change of the same function
    /// meanwhile gets AWS's 409 instead of interleaving with it (AWS: "An update is in progress").
    var changing: Set<String> = []

    public init(
        store: any FunctionStore, codeStore: CodeStore, catalog: FunctionCatalog, invoker: Invoker,
        account: AccountContext, logger: Logger, codeInUse: (@Sendable (String) -> Bool)? = nil,
        urlIndex: FunctionURLIndex = FunctionURLIndex()
    ) {
        self.urlIndex = urlIndex
        self.codeInUse = codeInUse ?? { digest in catalog.all().contains { $0.codeDigests.contains(digest) } }
        self.store = store
        self.codeStore = codeStore
        self.catalog = catalog
        self.invoker = invoker
        self.account = account
        self.logger = logger
    }

    /// Loads every function, with its versions and aliases, from the store into the catalog, and hands reserved
    /// concurrency to the invoker (server start).
    public func load() async throws {
        for function in try await self.store.loadAll() {
            self.catalog.put(function)
            if let reserved = function.reservedConcurrency {
                self.invoker.setReservedConcurrency(reserved, function: function.name)
            }
            for digest in function.codeDigests.sorted() where !self.codeStore.contains(digestHex: digest) {
                self.logger.error(
                    "Code package missing for function",
                    metadata: ["function.name": "\(function.configuration.name)", "code.digest": "\(digest)"])
            }
        }
        try await self.loadProvisioned()
        try await self.loadPoliciesAndURLs()
    }

    /// Stores a zip off the cooperative pool (unpacking can take a second for large packages).
    func storeCode(_ zip: [UInt8]) async throws -> FunctionConfiguration.CodeInfo {
        let codeStore = self.codeStore
        return try await NIOThreadPool.singleton.runIfActive { () throws -> FunctionConfiguration.CodeInfo in
            try codeStore.store(zip: zip)
        }
    }

    /// Creates a function; with `publish`, also its version 1.
    /// - Returns: the configuration for the create response (with `publish`, `Version` is `"1"`).
    public func create(
        name: String, settings: FunctionSettings, zip: [UInt8], tags: [String: String], publish: Bool = false
    ) async throws -> FunctionConfiguration {
        if self.catalog.get(name) != nil {
            throw NimbusError(.resourceConflict, "Function already exist: \(name)")
        }
        guard let role = settings.role else {
            throw NimbusError.validation([
                "Value null at 'role' failed to satisfy constraint: Member must not be null"
            ])
        }
        try Self.checkRuntimeAndHandler(runtime: settings.runtime, handler: settings.handler)
        try Self.checkTags(tags)
        let code = try await self.storeCode(zip)
        var config = FunctionConfiguration(
            name: name, runtime: settings.runtime, role: role, handler: settings.handler, code: code,
            lastModifiedMillis: Timestamp.nowMillis(), revisionID: UUID().uuidString.lowercased())
        settings.apply(to: &config)
        // AWS answers while the function is Pending, and the move to Active makes a new revision: the stored
        // configuration (what Get returns) has a RevisionId different from the create response's.
        var stored = config
        stored.revisionID = UUID().uuidString.lowercased()
        var function = StoredFunction(configuration: stored, tags: tags)
        var response = config
        if publish {
            let version = Self.snapshot(of: stored, number: 1, description: nil)
            function.versions = [version]
            function.lastVersionNumber = 1
            response.version = version.configuration.version
        }
        try await self.store.insert(function)
        self.catalog.put(function)
        self.invoker.functionChanged(name: name, revisionID: stored.revisionID)
        self.logger.info("Function created", metadata: ["function.name": "\(name)", "function.version": "\(response.version)"])
        return response
    }

    public func updateConfiguration(
        name: String, settings: FunctionSettings, revisionID: String?
    ) async throws -> FunctionConfiguration {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        try self.checkRevision(function, revisionID)
        var config = function.configuration
        settings.apply(to: &config)
        try Self.checkRuntimeAndHandler(runtime: config.runtime, handler: config.handler)
        config.lastModifiedMillis = Timestamp.nowMillis()
        config.revisionID = UUID().uuidString.lowercased()
        try await self.commit(&function, config)
        self.logger.info("Function configuration updated", metadata: ["function.name": "\(name)"])
        return config
    }

    /// Replaces `$LATEST`'s code; with `publish` (and not `dryRun`), publishes it as a new version.
    /// - Returns: `$LATEST`'s configuration, or the new version's with `publish`.
    public func updateCode(
        name: String, zip: [UInt8], architectures: [String]?, revisionID: String?, dryRun: Bool, publish: Bool = false
    ) async throws -> FunctionConfiguration {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        try self.checkRevision(function, revisionID)
        let oldDigest = function.configuration.code.digestHex
        let code = try await self.storeCode(zip)
        var config = function.configuration
        config.code = code
        if let architectures { config.architectures = architectures }
        config.lastModifiedMillis = Timestamp.nowMillis()
        config.revisionID = UUID().uuidString.lowercased()
        if dryRun {
            self.collectGarbage(code.digestHex)
            return config
        }
        try await self.commit(&function, config)
        if oldDigest != code.digestHex { self.collectGarbage(oldDigest) }
        self.logger.info("Function code updated", metadata: ["function.name": "\(name)"])
        if publish {
            return try await self.publish(&function, codeSha256: nil, description: nil)
        }
        return config
    }

    /// Deletes a function with all its versions and aliases.
    public func delete(name: String) async throws {
        let function = try self.beginChange(name)
        defer { self.endChange(name) }
        try await self.store.delete(name: name)
        self.catalog.remove(name)
        for url in function.urls.values { self.urlIndex.set(url.urlID, nil) }
        self.eventInvokeConfigs.removeAll(of: name)
        self.invoker.functionRemoved(name: name)
        for digest in function.codeDigests { self.collectGarbage(digest) }
        self.logger.info("Function deleted", metadata: ["function.name": "\(name)"])
    }

    public func tag(name: String, tags: [String: String]) async throws {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        function.tags.merge(tags) { $1 }
        try Self.checkTags(function.tags)
        try await self.store.update(function)
        self.catalog.put(function)
    }

    public func untag(name: String, keys: [String]) async throws {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        for key in keys { function.tags.removeValue(forKey: key) }
        try await self.store.update(function)
        self.catalog.put(function)
    }

    /// Stores an update. As on AWS, the update completing (InProgress → Successful) makes another revision, so the
    /// stored RevisionId differs from the one in the update's response.
    func commit(_ function: inout StoredFunction, _ config: FunctionConfiguration) async throws {
        var stored = config
        stored.revisionID = UUID().uuidString.lowercased()
        function.configuration = stored
        try await self.store.update(function)
        self.catalog.put(function)
        self.invoker.functionChanged(name: stored.name, revisionID: stored.revisionID)
    }

    func existing(_ name: String) throws -> StoredFunction {
        guard let function = self.catalog.get(name) else { throw self.account.notFound(name) }
        return function
    }

    /// Starts a change of a function: returns its current state and marks it as changing until ``endChange(_:)``.
    /// - Parameter notFound: the error for a function that does not exist (default: AWS's "Function not found").
    /// - Throws: `ResourceConflictException` while another change of the function is under way.
    func beginChange(_ name: String, notFound: NimbusError? = nil) throws -> StoredFunction {
        guard let function = self.catalog.get(name) else { throw notFound ?? self.account.notFound(name) }
        guard self.changing.insert(name).inserted else {
            throw NimbusError(
                .resourceConflict,
                "The operation cannot be performed at this time. An update is in progress for resource: \(self.account.functionARN(name))"
            )
        }
        return function
    }

    func endChange(_ name: String) {
        self.changing.remove(name)
    }

    func checkRevision(_ function: StoredFunction, _ revisionID: String?) throws {
        if let revisionID, revisionID != function.configuration.revisionID {
            throw NimbusError(
                .preconditionFailed,
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
            )
        }
    }

    /// Deletes a package once no function version (`$LATEST` or published) refers to it.
    func collectGarbage(_ digest: String) {
        if !self.codeInUse(digest) { self.codeStore.remove(digestHex: digest) }
    }

    static func checkRuntimeAndHandler(runtime: String?, handler: String?) throws {
        guard let runtime else {
            throw NimbusError.invalidParameter("Runtime is required for .zip file deployment packages.")
        }
        let family = RuntimeCatalog.family(of: runtime)
        if handler == nil && (family == .python || family == .node) {
            throw NimbusError.invalidParameter("Handler is required for .zip file deployment packages.")
        }
    }

    /// The tag that overrides the server's network mode for one function (Linux sandbox): egress, none or host.
    public static let networkTag = "nimbus:network"

    static func checkTags(_ tags: [String: String]) throws {
        if let mode = tags[Self.networkTag], NetworkMode(rawValue: mode) == nil {
            throw NimbusError.invalidParameter(
                "The tag \(Self.networkTag) must be one of: \(NetworkMode.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if tags.count > Limits.maximumTags {
            throw NimbusError.invalidParameter("Number of tags exceeds resource tag limit.")
        }
        for (key, value) in tags {
            if key.isEmpty || key.count > 128 || key.lowercased().hasPrefix("aws:") {
                throw NimbusError.invalidParameter("The tag key '\(key)' is invalid: 1-128 characters, not starting with 'aws:'.")
            }
            if value.count > 256 {
                throw NimbusError.invalidParameter("The tag value for key '\(key)' is longer than 256 characters.")
            }
        }
    }
}

import Foundation
import NimbusCore
import NimbusStore
import Synchronization

/// Where each function URL id leads, across every namespace: the host of a URL request names only the id and the
/// region, so the front door finds the function here without asking every cell.
public final class FunctionURLIndex: Sendable {
    public struct Entry: Sendable, Equatable {
        public var namespace: AccountContext
        public var function: String
        /// `""` for the unqualified function, else the alias.
        public var qualifier: String
    }

    let entries = Mutex<[String: Entry]>([:])

    public init() {}

    public func get(_ urlID: String) -> Entry? {
        self.entries.withLock { $0[urlID] }
    }

    func set(_ urlID: String, _ entry: Entry?) {
        self.entries.withLock { $0[urlID] = entry }
    }

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// A fresh id: 32 lowercase letters and digits, as AWS's.
    func newID() -> String {
        while true {
            let id = Digest.random(from: Self.alphabet, length: 32)
            if self.get(id) == nil { return id }
        }
    }
}

/// Resource-based policies (`AddPermission`, `RemovePermission`) and function URLs: both stored per function and
/// qualifier, in the catalog for the request path.
extension FunctionRegistry {
    /// Loads every policy and URL into the catalog and the URL index (server start).
    func loadPoliciesAndURLs() async throws {
        let (policies, urls) = try await self.store.loadPoliciesAndURLs()
        for name in Set(policies.keys).union(urls.keys) {
            guard var function = self.catalog.get(name) else { continue }
            function.policies = policies[name] ?? [:]
            function.urls = urls[name] ?? [:]
            self.catalog.put(function)
            for (qualifier, url) in function.urls {
                self.urlIndex.set(url.urlID, .init(namespace: self.account, function: name, qualifier: qualifier))
            }
        }
    }

    /// `AddPermission`: appends a statement to the qualifier's policy (`""` for the unqualified function).
    /// - Parameter revisionID: AWS's precondition: the policy's RevisionId or the function's (alias's) current one.
    public func addPermission(
        function name: String, qualifier: String, _ statement: PolicyStatement, revisionID: String?
    ) async throws -> PolicyStatement {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        var policy = function.policies[qualifier] ?? ResourcePolicy(revisionID: UUID().uuidString.lowercased())
        try self.checkPolicyRevision(revisionID, function: function, qualifier: qualifier, policy: function.policies[qualifier])
        if policy.statement(statement.sid) != nil {
            throw NimbusError(
                .resourceConflict,
                "The statement id (\(statement.sid)) provided already exists. Please provide a new statement id, or remove the existing statement.")
        }
        policy.statements.append(statement)
        policy.revisionID = UUID().uuidString.lowercased()
        let size = policy.text.utf8.count
        if size > Self.maximumPolicyBytes {
            throw NimbusError(
                .policyLengthExceeded, "The final policy size (\(size)) is bigger than the limit (\(Self.maximumPolicyBytes)).")
        }
        try await self.store.putPolicy(function: name, qualifier: qualifier, policy)
        function.policies[qualifier] = policy
        self.catalog.put(function)
        self.logger.info(
            "Permission added", metadata: ["function.name": "\(name)", "qualifier": "\(qualifier)", "sid": "\(statement.sid)"])
        return statement
    }

    /// AWS's limit on a function's resource-based policy.
    static let maximumPolicyBytes = 20_480

    /// `RemovePermission`.
    public func removePermission(function name: String, qualifier: String, sid: String, revisionID: String?) async throws {
        var function = try self.beginChange(
            name, notFound: NimbusError(.resourceNotFound, "No policy found for: \(self.account.functionARN(name))"))
        defer { self.endChange(name) }
        guard var policy = function.policies[qualifier] else {
            throw NimbusError(.resourceNotFound, "No policy is associated with the given resource.")
        }
        try self.checkPolicyRevision(revisionID, function: function, qualifier: qualifier, policy: policy)
        guard policy.statement(sid) != nil else {
            throw NimbusError(.resourceNotFound, "Statement \(sid) is not found in resource policy.")
        }
        policy.statements.removeAll { $0.sid == sid }
        policy.revisionID = UUID().uuidString.lowercased()
        let kept = policy.statements.isEmpty ? nil : policy
        try await self.store.putPolicy(function: name, qualifier: qualifier, kept)
        function.policies[qualifier] = kept
        self.catalog.put(function)
        self.logger.info(
            "Permission removed", metadata: ["function.name": "\(name)", "qualifier": "\(qualifier)", "sid": "\(sid)"])
    }

    func checkPolicyRevision(_ given: String?, function: StoredFunction, qualifier: String, policy: ResourcePolicy?) throws {
        guard let given else { return }
        let current: String?
        if qualifier.isEmpty {
            current = function.configuration.revisionID
        } else if let alias = function.alias(qualifier) {
            current = alias.revisionID
        } else {
            current = function.version(qualifier)?.revisionID
        }
        if given == current || given == policy?.revisionID { return }
        let api = function.alias(qualifier) != nil ? "GetPolicy" : "GetFunction/GetAlias"
        throw NimbusError(
            .preconditionFailed,
            "The Revision Id provided does not match the latest Revision Id. Call the \(api) API to retrieve the latest Revision Id")
    }

    /// Drops a version's or alias's policy with it.
    func removePolicy(_ function: inout StoredFunction, qualifier: String) async throws {
        guard function.policies[qualifier] != nil else { return }
        try await self.store.putPolicy(function: function.name, qualifier: qualifier, nil)
        function.policies[qualifier] = nil
    }

    // MARK: Function URLs

    /// `CreateFunctionUrlConfig`.
    public func createURL(
        function name: String, qualifier: String, authType: String, cors: JSONValue?, invokeMode: String?
    ) async throws -> FunctionURLConfig {
        var function = try self.beginChange(name, notFound: NimbusError(.resourceNotFound, "Function does not exist"))
        defer { self.endChange(name) }
        if !qualifier.isEmpty, function.alias(qualifier) == nil {
            throw NimbusError(.resourceNotFound, "Function does not exist")
        }
        if function.urls[qualifier] != nil {
            throw NimbusError(
                .resourceConflict,
                "Failed to create function url config for [functionArn = \(self.account.functionARN(name, qualifier: qualifier.isEmpty ? nil : qualifier))]. Error message:  FunctionUrlConfig exists for this Lambda function")
        }
        let now = Timestamp.nowMillis()
        let config = FunctionURLConfig(
            urlID: self.urlIndex.newID(), functionName: name, qualifier: qualifier.isEmpty ? nil : qualifier,
            authType: authType, cors: cors, invokeMode: invokeMode, creationMillis: now, lastModifiedMillis: now)
        try await self.store.putURL(function: name, qualifier: qualifier, config)
        function.urls[qualifier] = config
        self.catalog.put(function)
        self.urlIndex.set(config.urlID, .init(namespace: self.account, function: name, qualifier: qualifier))
        self.logger.info(
            "Function URL created", metadata: ["function.name": "\(name)", "qualifier": "\(qualifier)", "url.id": "\(config.urlID)"])
        return config
    }

    /// `UpdateFunctionUrlConfig`: members left out keep their values.
    public func updateURL(
        function name: String, qualifier: String, authType: String?, cors: JSONValue?, invokeMode: String?
    ) async throws -> FunctionURLConfig {
        var function = try self.beginChange(name, notFound: NimbusError(.resourceNotFound, "Function does not exist"))
        defer { self.endChange(name) }
        if !qualifier.isEmpty, function.alias(qualifier) == nil {
            throw NimbusError(.resourceNotFound, "Function does not exist")
        }
        guard var config = function.urls[qualifier] else {
            throw NimbusError(.resourceNotFound, "The resource you requested does not exist.")
        }
        if let authType { config.authType = authType }
        if let cors { config.cors = cors }
        if let invokeMode { config.invokeMode = invokeMode }
        config.lastModifiedMillis = Timestamp.nowMillis()
        try await self.store.putURL(function: name, qualifier: qualifier, config)
        function.urls[qualifier] = config
        self.catalog.put(function)
        return config
    }

    /// `DeleteFunctionUrlConfig`.
    public func deleteURL(function name: String, qualifier: String) async throws {
        let notFound = NimbusError(.resourceNotFound, "The resource you requested does not exist.")
        var function = try self.beginChange(name, notFound: notFound)
        defer { self.endChange(name) }
        guard let config = function.urls[qualifier] else { throw notFound }
        try await self.store.putURL(function: name, qualifier: qualifier, nil)
        function.urls[qualifier] = nil
        self.catalog.put(function)
        self.urlIndex.set(config.urlID, nil)
    }
}

import Foundation
import NimbusCore
import Testing

@testable import NimbusEdge

@Suite struct CredentialStoreTests {
    let store = CredentialStore(operatorKey: OperatorKey(accessKeyID: "AKIAOPERATOR", secretAccessKey: "s3cret", account: "111122223333"))
    let namespace = AccountContext(region: "eu-west-1", accountID: "111122223333")

    @Test func theOperatorKeyIsKnown() {
        let entry = self.store.lookup("AKIAOPERATOR")
        #expect(entry?.secret == "s3cret")
        #expect(entry?.caller.kind == .operatorKey)
        #expect(entry?.caller.arn == "arn:aws:iam::111122223333:root")
    }

    @Test func temporaryCredentialsCarryTheFunctionsRoleAndExpire() {
        let now = Date()
        let issued = self.store.issue(
            function: "fn", roleARN: "arn:aws:iam::111122223333:role/service-role/my-role", namespace: self.namespace,
            environmentID: "env1", lifetime: .seconds(60), now: now)
        #expect(issued.accessKeyID.hasPrefix("ASIA"))
        #expect(issued.accessKeyID.count == 20)
        #expect(issued.secretAccessKey.count == 40)
        let entry = self.store.lookup(issued.accessKeyID, now: now)
        #expect(entry?.sessionToken == issued.sessionToken)
        #expect(entry?.caller.arn == "arn:aws:sts::111122223333:assumed-role/my-role/fn")
        #expect(entry?.caller.userID.hasSuffix(":fn") == true)
        #expect(self.store.lookup(issued.accessKeyID, now: now.addingTimeInterval(61)) == nil)
    }

    @Test func revokingByEnvironmentOrFunction() {
        let a = self.store.issue(function: "a", roleARN: "arn:aws:iam::1:role/r", namespace: self.namespace, environmentID: "e1")
        let b = self.store.issue(function: "a", roleARN: "arn:aws:iam::1:role/r", namespace: self.namespace, environmentID: "e2")
        let c = self.store.issue(function: "c", roleARN: "arn:aws:iam::1:role/r", namespace: self.namespace, environmentID: "e3")
        self.store.revoke(environmentID: "e1")
        #expect(self.store.lookup(a.accessKeyID) == nil)
        #expect(self.store.lookup(b.accessKeyID) != nil)
        self.store.revoke(function: "a", namespace: self.namespace)
        #expect(self.store.lookup(b.accessKeyID) == nil)
        #expect(self.store.lookup(c.accessKeyID) != nil)
        // The same name in another region is another function.
        self.store.revoke(function: "c", namespace: AccountContext(region: "us-east-1", accountID: "111122223333"))
        #expect(self.store.lookup(c.accessKeyID) != nil)
    }

    @Test func theOperatorKeyFileIsOwnerOnlyAndStable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (first, created) = try OperatorKey.loadOrCreate(directory: directory, account: "000000000000")
        #expect(created)
        #expect(first.accessKeyID.hasPrefix("AKIA"))
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/credentials.json")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let (second, createdAgain) = try OperatorKey.loadOrCreate(directory: directory, account: "000000000000")
        #expect(!createdAgain)
        #expect(second == first)
    }
}

extension CredentialStore.Entry: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.secret == b.secret && a.caller == b.caller }
}

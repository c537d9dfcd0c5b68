import Foundation
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusProtocols
import NimbusSQS
import NimbusStore
import Synchronization

/// Bucket notifications: which destinations an object's change fires (the bucket's configuration), the records
/// they receive, and Put/GetBucketNotificationConfiguration with S3's validation of every destination.
final class BucketNotifications: Sendable {
    let functions: (any FunctionInvoking)?
    let queues: SQSService?
    let relay: NotificationRelay
    let sequencer = Mutex(S3EventSequencer())

    init(functions: (any FunctionInvoking)?, queues: SQSService?, relay: NotificationRelay) {
        self.functions = functions
        self.queues = queues
        self.relay = relay
    }

    /// The outbox entries for an event on `object` in `bucket`: one per matching destination, each with its own
    /// record (the record names its configuration).
    func outbox(for bucket: StoredBucket, event: String, object: StoredObject, request: ServiceRequest)
        -> [OutboxNotification]
    {
        guard let stored = bucket.notificationConfiguration,
            let configuration = try? NotificationConfiguration(storageString: stored)
        else { return [] }
        let matches = configuration.destinations(for: event, key: object.key).filter { $0.kind != .eventBridge }
        guard !matches.isEmpty else { return [] }
        let now = Timestamp.nowMillis()
        let removed = event.hasPrefix("ObjectRemoved")
        let record = S3EventRecord(
            eventName: event, eventTimeMillis: now, region: bucket.namespace.region,
            principalID: Self.principalID(request.caller), sourceIPAddress: request.http?.sourceIP ?? "127.0.0.1",
            requestID: request.requestID, hostID: WireProtocol.hostID, bucket: bucket.name,
            bucketOwnerID: bucket.namespace.accountID, key: object.key, size: removed ? nil : object.size,
            eTag: removed ? nil : object.etag, sequencer: self.sequencer.withLock { $0.next(nowMillis: now) })
        return matches.map { match in
            OutboxNotification(
                deliveryID: UUID().uuidString.lowercased(), namespace: bucket.namespace, bucket: bucket.name,
                destination: match.kind == .queue ? .queue : .function, targetARN: match.arn,
                body: record.document(configurationID: match.configurationID), createdAtMillis: now)
        }
    }

    /// `userIdentity.principalId`: `AWS:<user id>` of the caller (a function's role session, or the account).
    static func principalID(_ caller: Caller) -> String {
        "AWS:\(caller.userID)"
    }

    /// Checks every destination as S3 does before it stores a configuration: functions must exist and allow
    /// `s3.amazonaws.com` to invoke them for this bucket; queues must exist. Every failure is reported at once.
    func validate(_ configuration: NotificationConfiguration, bucket: StoredBucket) async throws {
        var failures: [DestinationFailure] = []
        for arn in configuration.functionARNs {
            do {
                guard let functions else { throw S3Error.accessDenied }
                try await functions.authorize(
                    TriggeredInvocation(
                        function: arn, namespace: bucket.namespace, payload: ByteBuffer(), principal: "s3.amazonaws.com",
                        sourceARN: "arn:aws:s3:::\(bucket.name)", sourceAccount: bucket.namespace.accountID, requestID: ""))
            } catch {
                failures.append(.functionNotAuthorized(arn))
            }
        }
        for arn in configuration.queueARNs where self.queues?.queueInfo(arn: arn) == nil {
            failures.append(.queueDoesNotExist(arn))
        }
        for arn in configuration.topicARNs { failures.append(.topicDoesNotExist(arn)) }
        if !failures.isEmpty { throw S3Error.unableToValidateDestinations(failures) }
    }

    /// S3's `s3:TestEvent` to each queue a new configuration names.
    func sendTestEvents(_ configuration: NotificationConfiguration, bucket: String, requestID: String) async {
        guard let queues else { return }
        let body = String(
            decoding: S3EventRecord.testEvent(
                bucket: bucket, timeMillis: Timestamp.nowMillis(), requestID: requestID, hostID: WireProtocol.hostID),
            as: UTF8.self)
        for arn in configuration.queueARNs {
            _ = try? await queues.send(queueARN: arn, body: body)
        }
    }
}

extension S3Service {
    func putNotificationConfiguration(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let skip = request.header("x-amz-skip-destination-validation")?.lowercased() == "true"
        let configuration = try NotificationConfiguration.parse(request.body.readableBytesView, skipDestinationValidation: skip)
        if !skip { try await self.notifications.validate(configuration, bucket: bucket) }
        try await self.store.updateBucket(bucket.name) {
            $0.notificationConfiguration = configuration.isEmpty ? nil : configuration.storageString
        }
        await self.notifications.sendTestEvents(configuration, bucket: bucket.name, requestID: request.requestID)
        return ServiceResponse(status: 200)
    }

    func getNotificationConfiguration(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let configuration = try bucket.notificationConfiguration.map { try NotificationConfiguration(storageString: $0) }
            ?? NotificationConfiguration()
        return .bytes(
            200, ByteBuffer(bytes: configuration.xml), contentType: "application/xml")
    }
}

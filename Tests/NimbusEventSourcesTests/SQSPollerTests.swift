import Logging
import NIOCore
import Synchronization
import Testing

@testable import NimbusCore
@testable import NimbusEventSources
@testable import NimbusInvoker
@testable import NimbusSQS

/// The poller's rules, against a queue and a function in memory: what is deleted, what is left for the visibility
/// timeout, what the filters drop, and how partial batch failures are read.
@Suite struct SQSPollerTests {
    static let arn = "arn:aws:sqs:us-east-1:000000000000:work"

    final class Queue: PolledQueue {
        let deleted = Mutex<[String]>([])
        let madeVisible = Mutex<[String]>([])
        func receive(queueARN: String, maxMessages: Int, waitSeconds: Int, visibilityTimeout: Int?) async throws -> [QueueMessage] { [] }
        func delete(queueARN: String, receiptHandles: [String]) async throws { self.deleted.withLock { $0 += receiptHandles } }
        func changeVisibility(queueARN: String, receiptHandle: String, timeoutSeconds: Int) async throws {
            self.madeVisible.withLock { $0.append(receiptHandle) }
        }
        func queueInfo(arn: String) -> (visibilityTimeout: Int, fifo: Bool)? { (30, false) }
    }

    final class Function: MappingFunctions {
        let answer: @Sendable (JSONValue) throws -> InvokeResult
        let events = Mutex<[JSONValue]>([])
        init(_ answer: @escaping @Sendable (JSONValue) throws -> InvokeResult) { self.answer = answer }
        func invoke(_ mapping: EventSourceMapping, namespace: AccountContext, payload: ByteBuffer, requestID: String) async throws -> InvokeResult {
            let event = JSONValue.parse(payload.readableBytesView) ?? .null
            self.events.withLock { $0.append(event) }
            return try self.answer(event)
        }
        func availableConcurrency(_ mapping: EventSourceMapping, namespace: AccountContext) -> Int { 10 }
    }

    static func result(_ json: String, error: String? = nil) -> InvokeResult {
        InvokeResult(payload: ByteBuffer(string: json), functionError: error, executedVersion: "$LATEST", coldStart: false)
    }

    static func message(_ id: String, _ body: String) -> QueueMessage {
        QueueMessage(
            messageID: id, receiptHandle: "rh-\(id)", body: body, attributes: ["ApproximateReceiveCount": "1"],
            messageAttributes: ["kind": MessageAttributeValue(dataType: "String", stringValue: "order")], md5OfBody: "md5",
            md5OfMessageAttributes: nil)
    }

    static func mapping(reportFailures: Bool = false, filters: [String] = []) -> EventSourceMapping {
        EventSourceMapping(
            uuid: "u", eventSourceARN: Self.arn, functionName: "fn", qualifier: nil, enabled: true, batchSize: 10,
            maximumBatchingWindowSeconds: 0, filterPatterns: filters,
            functionResponseTypes: reportFailures ? ["ReportBatchItemFailures"] : [], state: .enabled, lastModifiedMillis: 0)
    }

    func poller(_ mapping: EventSourceMapping, _ queue: Queue, _ function: Function) -> SQSPoller {
        SQSPoller(mapping: mapping, namespace: AccountContext(), queue: queue, functions: function, logger: Logger(label: "test"))
    }

    @Test func aSucceededBatchIsDeletedWhole() async {
        let queue = Queue()
        let function = Function { _ in Self.result("null") }
        await self.poller(Self.mapping(), queue, function).process([Self.message("a", "1"), Self.message("b", "2")])
        #expect(queue.deleted.withLock { $0 } == ["rh-a", "rh-b"])
        let record = function.events.withLock { $0 }.first?["Records"]?.arrayValue?.first
        #expect(record?["eventSource"] == "aws:sqs")
        #expect(record?["eventSourceARN"] == .string(Self.arn))
        #expect(record?["messageAttributes"]?["kind"]?["stringValue"] == "order")
        #expect(record?["messageAttributes"]?["kind"]?["stringListValues"] == [])
    }

    @Test func aFailedBatchIsLeftForTheVisibilityTimeout() async {
        let queue = Queue()
        await self.poller(Self.mapping(), queue, Function { _ in Self.result(#"{"errorMessage":"x"}"#, error: "Unhandled") })
            .process([Self.message("a", "1")])
        #expect(queue.deleted.withLock { $0 }.isEmpty)
        #expect(queue.madeVisible.withLock { $0 }.isEmpty)
    }

    @Test func onlyTheReportedFailuresStay() async {
        let queue = Queue()
        let function = Function { _ in Self.result(#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#) }
        await self.poller(Self.mapping(reportFailures: true), queue, function)
            .process([Self.message("a", "1"), Self.message("b", "2"), Self.message("c", "3")])
        #expect(queue.deleted.withLock { $0 } == ["rh-a", "rh-c"])
    }

    @Test func withoutReportBatchItemFailuresAReportIsIgnored() async {
        let queue = Queue()
        let function = Function { _ in Self.result(#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#) }
        await self.poller(Self.mapping(), queue, function).process([Self.message("a", "1"), Self.message("b", "2")])
        #expect(queue.deleted.withLock { $0 } == ["rh-a", "rh-b"])
    }

    @Test func aMalformedReportFailsTheWholeBatch() async {
        for answer in [#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, #"{"batchItemFailures":[{"itemIdentifier":"zz"}]}"#,
                       #"{"batchItemFailures":[{}]}"#, #"{"batchItemFailures":"a"}"#] {
            let queue = Queue()
            await self.poller(Self.mapping(reportFailures: true), queue, Function { _ in Self.result(answer) })
                .process([Self.message("a", "1")])
            #expect(queue.deleted.withLock { $0 }.isEmpty, "\(answer)")
        }
    }

    @Test func anEmptyReportMeansEverythingSucceeded() {
        let batch: Set<String> = ["a"]
        for answer in ["", "null", "{}", #"{"batchItemFailures":[]}"#, #"{"batchItemFailures":null}"#, "\"ok\""] {
            #expect(SQSEvent.failedMessages(in: ByteBuffer(string: answer), batch: batch) == [], "\(answer)")
        }
    }

    @Test func filtersDropAndDeleteWhatTheyDoNotMatch() async {
        let queue = Queue()
        let function = Function { _ in Self.result("null") }
        let mapping = Self.mapping(filters: [#"{"body": {"kind": ["keep"]}}"#])
        await self.poller(mapping, queue, function)
            .process([Self.message("a", #"{"kind":"keep"}"#), Self.message("b", #"{"kind":"drop"}"#), Self.message("c", "text")])
        let records = function.events.withLock { $0 }.first?["Records"]?.arrayValue ?? []
        #expect(records.map { $0["messageId"] } == ["a"])
        // The body reaches the function as sent (a string), however the filter read it.
        #expect(records.first?["body"] == #"{"kind":"keep"}"#)
        #expect(Set(queue.deleted.withLock { $0 }) == ["rh-a", "rh-b", "rh-c"])
    }

    @Test func aThrottledBatchComesBackSoon() async {
        let queue = Queue()
        let function = Function { _ in throw NimbusError(.tooManyRequests, "Rate Exceeded.") }
        await self.poller(Self.mapping(), queue, function).process([Self.message("a", "1")])
        #expect(queue.deleted.withLock { $0 }.isEmpty)
        #expect(queue.madeVisible.withLock { $0 } == ["rh-a"])
    }
}

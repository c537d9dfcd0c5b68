import Foundation
import NimbusCore
import Synchronization

/// The log of one execution environment: splits its output into lines (one CloudWatch event each), sends them to
/// the log sink under the environment's stream, and keeps the tail of the current invocation for
/// `X-Amz-Log-Result`.
final class EnvironmentLog: Sendable {
    let namespace: AccountContext
    let group: String
    let stream: String
    let sink: any LogSink

    struct State {
        var partial: [UInt8] = []
        /// The current invocation's log text, bounded to twice the tail size.
        var capture: [UInt8] = []
    }

    let state = Mutex<State>(State())

    init(namespace: AccountContext, group: String, stream: String, sink: any LogSink) {
        self.namespace = namespace
        self.group = group
        self.stream = stream
        self.sink = sink
    }

    /// Raw output of the environment's processes.
    ///
    /// A carriage return inside a line becomes a newline within the same event: runtimes (awslambdaric and
    /// Nimbus's Python client) join multi-line records such as tracebacks with `\r` on stdout so that they stay one
    /// CloudWatch event, which AWS then shows with `\n` (it reads them through a framed descriptor instead).
    func output(_ raw: [UInt8]) {
        let bytes = Self.normalizeCarriageReturns(raw)
        let now = Timestamp.nowMillis()
        let events = self.state.withLock { s -> [FunctionLogEvent] in
            Self.appendCapture(&s.capture, bytes)
            var events: [FunctionLogEvent] = []
            var start = 0
            for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
                var line = s.partial
                line += bytes[start..<i]
                s.partial.removeAll(keepingCapacity: true)
                events.append(self.event(line, now))
                start = i + 1
            }
            s.partial += bytes[start...]
            if s.partial.count > 256 * 1024 {
                // CloudWatch's event limit is 256 KB: split an overlong line.
                events.append(self.event(s.partial, now))
                s.partial.removeAll(keepingCapacity: true)
            }
            return events
        }
        self.sink.append(events)
    }

    /// A platform line (START, END, REPORT, …): flushes any partial output line first.
    func platformLine(_ line: String) {
        let now = Timestamp.nowMillis()
        let events = self.state.withLock { s -> [FunctionLogEvent] in
            var events: [FunctionLogEvent] = []
            if !s.partial.isEmpty {
                events.append(self.event(s.partial, now))
                Self.appendCapture(&s.capture, [UInt8(ascii: "\n")])
                s.partial.removeAll(keepingCapacity: true)
            }
            Self.appendCapture(&s.capture, Array((line + "\n").utf8))
            events.append(FunctionLogEvent(
                namespace: self.namespace, group: self.group, stream: self.stream, timestampMillis: now, message: line))
            return events
        }
        self.sink.append(events)
    }

    /// Starts capturing a new invocation's tail; with `keep`, the text so far (init output) stays in it.
    func beginCapture(keep: Bool) {
        self.state.withLock { if !keep { $0.capture.removeAll(keepingCapacity: true) } }
    }

    /// The base64 tail of the current capture.
    func tail() -> String {
        let bytes = self.state.withLock { s -> [UInt8] in
            s.capture.count > Limits.logTailBytes ? Array(s.capture.suffix(Limits.logTailBytes)) : s.capture
        }
        return Data(bytes).base64EncodedString()
    }

    /// `\r\n` becomes `\n`; a lone `\r` marks a newline inside the current event (see ``output(_:)``).
    static func normalizeCarriageReturns(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0D) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (i, b) in bytes.enumerated() {
            if b != 0x0D {
                out.append(b)
            } else if i + 1 < bytes.count && bytes[i + 1] == 0x0A {
                continue
            } else {
                out.append(Self.innerNewline)
            }
        }
        return out
    }

    /// Stands for a newline inside one event while lines are split; turned back into `\n` in the event text.
    static let innerNewline: UInt8 = 0x0B

    func event(_ line: some Collection<UInt8>, _ now: Int64) -> FunctionLogEvent {
        let text = line.contains(Self.innerNewline) ? line.map { $0 == Self.innerNewline ? 0x0A : $0 } : Array(line)
        return FunctionLogEvent(
            namespace: self.namespace, group: self.group, stream: self.stream, timestampMillis: now, message: String(decoding: text, as: UTF8.self))
    }

    static func appendCapture(_ capture: inout [UInt8], _ bytes: some Collection<UInt8>) {
        capture += bytes.map { $0 == Self.innerNewline ? 0x0A : $0 }
        if capture.count > 2 * Limits.logTailBytes {
            capture.removeFirst(capture.count - Limits.logTailBytes)
        }
    }
}

/// A `wildcard` pattern: `*` matches any run of characters (including none), `\*` a literal star, `\\` a backslash.
///
/// Kept as the literal byte runs between stars so matching is a prefix check, a suffix check and a left-most search
/// for each middle run, over the event string's UTF-8 bytes without copying them. Byte matching is character
/// matching because UTF-8 is self-synchronising.
struct WildcardPattern: Sendable, Hashable {
    /// The literal runs; `runs.count - 1` stars sit between them (an empty run at either end means a leading or
    /// trailing star).
    let runs: [[UInt8]]

    /// Parses `text` with Ruler's rules and messages. Positions count UTF-8 bytes of the value as Ruler quotes it
    /// (`"` + text + `"`), which is why they start at 1.
    init(parsing text: String) throws(PatternFailure) {
        let bytes = Array(text.utf8)
        var runs: [[UInt8]] = [[]]
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "*") {
                if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*") {
                    throw PatternFailure("Consecutive wildcard characters at pos \(index + 1)")
                }
                runs.append([])
            } else if byte == UInt8(ascii: "\\") {
                let next = index + 1 < bytes.count ? bytes[index + 1] : UInt8(ascii: "\"")
                guard next == UInt8(ascii: "*") || next == UInt8(ascii: "\\") else {
                    throw PatternFailure("Invalid escape character at pos \(index + 1)")
                }
                runs[runs.count - 1].append(next)
                index += 1
            } else {
                runs[runs.count - 1].append(byte)
            }
            index += 1
        }
        self.runs = runs
    }

    /// Whether `value` matches; strings only, as in EventBridge.
    func matches(_ value: String) -> Bool {
        value.utf8.withContiguousStorageIfAvailable { matches(bytes: $0) } ?? matches(bytes: Array(value.utf8))
    }

    private func matches<Bytes: RandomAccessCollection<UInt8>>(bytes: Bytes) -> Bool where Bytes.Index == Int {
        guard let first = runs.first, let last = runs.last else { return false }
        if runs.count == 1 {
            return bytes.count == first.count && bytes.elementsEqual(first)
        }
        guard bytes.count >= first.count + last.count else { return false }
        let start = bytes.startIndex
        guard bytes[start..<(start + first.count)].elementsEqual(first) else { return false }
        let end = bytes.endIndex - last.count
        guard bytes[end..<bytes.endIndex].elementsEqual(last) else { return false }
        var position = start + first.count
        for run in runs.dropFirst().dropLast() where !run.isEmpty {
            guard let found = Self.firstRange(of: run, in: bytes, from: position, to: end) else { return false }
            position = found
        }
        return true
    }

    /// The index just past the left-most occurrence of `run` in `bytes[from..<to]`.
    private static func firstRange<Bytes: RandomAccessCollection<UInt8>>(
        of run: [UInt8],
        in bytes: Bytes,
        from: Int,
        to: Int
    ) -> Int? where Bytes.Index == Int {
        guard to - from >= run.count, let head = run.first else { return nil }
        var index = from
        let lastStart = to - run.count
        while index <= lastStart {
            if bytes[index] == head && bytes[index..<(index + run.count)].elementsEqual(run) {
                return index + run.count
            }
            index += 1
        }
        return nil
    }
}

/// How hard a set of wildcard patterns on one field is to match: the most NFA positions an adversarial value can keep
/// alive at once, a position behind a star counting twice (it never dies). EventBridge refuses rules above a
/// complexity threshold it does not publish; this measure and ``limit`` are Nimbus's, calibrated so that AWS's
/// recorded verdicts hold (`*:*:*:*:*:event-bus/*` refused, `/Users/*/dir/dir/dir/dir/dir/doc.txt` and two
/// `*/bin/*.x` patterns accepted). See docs/event-patterns.md.
enum WildcardComplexity {
    static let limit = 12
    /// Upper bound on the distinct state sets explored; beyond it the field counts as too complex.
    static let explorationBudget = 20_000

    static func isTooComplex(_ patterns: [WildcardPattern]) -> Bool {
        guard !patterns.isEmpty else { return false }
        // NFA position (pattern, literal index); a star precedes literal index i when it ends run k at that index.
        struct Automaton {
            var literals: [UInt8] = []
            var starBefore: Set<Int> = []
        }
        let automata = patterns.map { pattern in
            var automaton = Automaton()
            for (index, run) in pattern.runs.enumerated() {
                if index > 0 { automaton.starBefore.insert(automaton.literals.count) }
                automaton.literals.append(contentsOf: run)
            }
            return automaton
        }
        var alphabet = Set<UInt8>()
        for automaton in automata { alphabet.formUnion(automaton.literals) }
        // One byte no pattern mentions stands for all the others.
        if let other = (0...255).lazy.map({ UInt8($0) }).first(where: { !alphabet.contains($0) }) {
            alphabet.insert(other)
        }
        struct Position: Hashable {
            var pattern: Int
            var index: Int
        }
        func weight(_ set: Set<Position>) -> Int {
            set.reduce(0) { $0 + (automata[$1.pattern].starBefore.contains($1.index) ? 2 : 1) }
        }
        let start = Set(automata.indices.map { Position(pattern: $0, index: 0) })
        if weight(start) > limit { return true }
        var seen: Set<Set<Position>> = [start]
        var queue = [start]
        while let state = queue.popLast() {
            for byte in alphabet {
                var next = Set<Position>()
                for position in state {
                    let automaton = automata[position.pattern]
                    if automaton.starBefore.contains(position.index) { next.insert(position) }
                    if position.index < automaton.literals.count && automaton.literals[position.index] == byte {
                        next.insert(Position(pattern: position.pattern, index: position.index + 1))
                    }
                }
                guard !next.isEmpty, seen.insert(next).inserted else { continue }
                if weight(next) > limit || seen.count > explorationBudget { return true }
                queue.append(next)
            }
        }
        return false
    }
}

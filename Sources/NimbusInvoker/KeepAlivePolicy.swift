import Foundation

/// How long an idle environment is kept, per function: a fixed timeout, or the hybrid histogram policy of Shahrad et
/// al., "Serverless in the Wild" (USENIX ATC '20).
///
/// The hybrid policy keeps a histogram of a function's idle times (the gap between one invocation and the next, in
/// one-minute bins up to a range of four hours). When the histogram is representative (enough samples, most of them
/// in range, and concentrated: the bin counts' coefficient of variation is high), it answers with a *pre-warm
/// window* (the head percentile, less a margin: the environment is released right after an invocation and started
/// again that long after it) and a *keep-alive window* (up to the tail percentile, plus a margin). Otherwise it falls
/// back to the fixed timeout with no pre-warm. Pure: it takes idle times and returns a decision.
public struct KeepAlivePolicy: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Keep every idle environment for the same time.
        case fixed
        /// Shahrad et al.'s hybrid histogram, with the fixed timeout as fallback.
        case hybridHistogram
    }

    /// What to do after an invocation: release now and start again after `prewarmSeconds` (0: keep it), then keep it
    /// for `keepAliveSeconds`.
    public struct Decision: Sendable, Equatable {
        public var prewarmSeconds: Double
        public var keepAliveSeconds: Double
        /// Whether the histogram decided (false: the fixed fallback).
        public var fromHistogram: Bool
    }

    public var kind: Kind
    /// The fixed timeout, and the fallback of the hybrid policy.
    public var fixedSeconds: Double
    public var binSeconds: Double = 60
    public var rangeSeconds: Double = 4 * 3600
    public var headPercentile: Double = 0.05
    public var tailPercentile: Double = 0.99
    /// Margin taken off the pre-warm window and added to the keep-alive window.
    public var margin: Double = 0.10
    /// Fewer idle times than this: fixed fallback.
    public var minimumSamples = 10
    /// A histogram whose bin counts vary less than this (coefficient of variation) is not representative.
    public var minimumCV: Double = 2
    /// More out-of-range idle times than this fraction: fixed fallback.
    public var maximumOutOfRange: Double = 0.5

    public init(kind: Kind, fixedSeconds: Double) {
        self.kind = kind
        self.fixedSeconds = fixedSeconds
    }

    /// A histogram of idle times in this policy's bins, updated one idle time at a time.
    public struct Histogram: Sendable, Equatable {
        var bins: [Int]
        var binSeconds: Double
        var rangeSeconds: Double
        public private(set) var total = 0
        var inRange = 0

        public mutating func add(_ idle: Double, count: Int = 1) {
            self.total += count
            guard idle >= 0 && idle < self.rangeSeconds else { return }
            self.bins[min(self.bins.count - 1, Int(idle / self.binSeconds))] += count
            self.inRange += count
        }

        public mutating func remove(_ idle: Double) { self.add(idle, count: -1) }
    }

    public func emptyHistogram() -> Histogram {
        Histogram(
            bins: [Int](repeating: 0, count: Int((self.rangeSeconds / self.binSeconds).rounded(.up))),
            binSeconds: self.binSeconds,
            rangeSeconds: self.rangeSeconds
        )
    }

    /// The decision for a function whose past idle times (seconds) are `idleTimes`.
    public func decide(idleTimes: [Double]) -> Decision {
        var histogram = self.emptyHistogram()
        for idle in idleTimes { histogram.add(idle) }
        return self.decide(histogram)
    }

    /// The decision for a function whose idle times are in `histogram` (made by ``emptyHistogram()``).
    public func decide(_ histogram: Histogram) -> Decision {
        let fallback = Decision(prewarmSeconds: 0, keepAliveSeconds: self.fixedSeconds, fromHistogram: false)
        guard self.kind == .hybridHistogram, histogram.total >= self.minimumSamples else { return fallback }
        let bins = histogram.bins
        let binCount = bins.count
        let inRange = histogram.inRange
        guard inRange > 0, Double(histogram.total - inRange) / Double(histogram.total) <= self.maximumOutOfRange
        else { return fallback }
        let mean = Double(inRange) / Double(binCount)
        let variance = bins.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(binCount)
        guard variance.squareRoot() / mean >= self.minimumCV else { return fallback }
        let head = self.percentileBin(bins, total: inRange, self.headPercentile)
        let tail = self.percentileBin(bins, total: inRange, self.tailPercentile)
        let prewarm = Double(head) * self.binSeconds * (1 - self.margin)
        let end = Double(tail + 1) * self.binSeconds * (1 + self.margin)
        return Decision(prewarmSeconds: prewarm, keepAliveSeconds: end - prewarm, fromHistogram: true)
    }

    /// The index of the bin holding the `p` percentile.
    func percentileBin(_ bins: [Int], total: Int, _ p: Double) -> Int {
        let target = max(1, Int((p * Double(total)).rounded(.up)))
        var seen = 0
        for (index, count) in bins.enumerated() {
            seen += count
            if seen >= target { return index }
        }
        return bins.count - 1
    }
}

/// Replays invocation arrival times through a keep-alive policy, one environment per function (the regime the policy
/// is for: functions invoked rarely enough that one environment serves them), counting cold starts and the seconds
/// environments were alive while idle.
public struct KeepAliveSimulation: Sendable {
    public struct Outcome: Sendable, Equatable {
        public var invocations = 0
        public var coldStarts = 0
        public var environmentSeconds: Double = 0

        public init() {}
    }

    public var policy: KeepAlivePolicy
    /// Idle times remembered per function (the newest ones).
    public var historyLimit = 1000

    public init(policy: KeepAlivePolicy) {
        self.policy = policy
    }

    /// Replays one function's arrival times (seconds, ascending).
    public func run(arrivals: [Double]) -> Outcome {
        var outcome = Outcome()
        var history: [Double] = []
        var histogram = self.policy.emptyHistogram()
        var previous: Double?
        for arrival in arrivals {
            outcome.invocations += 1
            guard let last = previous else {
                outcome.coldStarts += 1
                previous = arrival
                continue
            }
            let decision = self.policy.decide(histogram)
            let gap = arrival - last
            let loaded = decision.prewarmSeconds
            let unloaded = decision.prewarmSeconds + decision.keepAliveSeconds
            if gap >= loaded && gap <= unloaded {
                outcome.environmentSeconds += gap - loaded
            } else {
                outcome.coldStarts += 1
                if gap > unloaded { outcome.environmentSeconds += decision.keepAliveSeconds }
            }
            history.append(gap)
            histogram.add(gap)
            if history.count > self.historyLimit { histogram.remove(history.removeFirst()) }
            previous = arrival
        }
        if previous != nil { outcome.environmentSeconds += self.policy.decide(histogram).keepAliveSeconds }
        return outcome
    }

    /// A synthetic day of arrivals for a few functions with different patterns (fixed seed): a 10-minute timer with
    /// jitter, a 30-minute timer, bursts at random times, and a Poisson process.
    public static func syntheticTrace(seed: UInt64 = 42, days: Double = 1) -> [(name: String, arrivals: [Double])] {
        var random = SplitMix64(seed: seed)
        let horizon = days * 86_400
        var trace: [(String, [Double])] = []
        var t = 0.0
        var arrivals: [Double] = []
        while t < horizon {
            arrivals.append(t + random.uniform(-10, 10))
            t += 600
        }
        trace.append(("timer-10min-jitter", arrivals.map { max(0, $0) }.sorted()))
        arrivals = stride(from: 0.0, to: horizon, by: 1800).map { $0 }
        trace.append(("timer-30min", arrivals))
        arrivals = []
        t = 0
        while t < horizon {
            t += random.exponential(mean: 5400)
            for i in 0..<Int(random.uniform(5, 30)) { arrivals.append(t + Double(i) * random.uniform(0.5, 3)) }
        }
        trace.append(("bursty", arrivals.filter { $0 < horizon }.sorted()))
        arrivals = []
        t = 0
        while t < horizon {
            t += random.exponential(mean: 420)
            arrivals.append(t)
        }
        trace.append(("poisson-7min", arrivals.filter { $0 < horizon }))
        return trace
    }
}

/// A small deterministic generator (SplitMix64) for reproducible traces.
public struct SplitMix64: Sendable {
    var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[low, high)`.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(self.next() >> 11) / Double(1 << 53)
    }

    public mutating func exponential(mean: Double) -> Double {
        -mean * (1 - self.uniform(0, 1)).logMagnitude()
    }
}

extension Double {
    fileprivate func logMagnitude() -> Double { Foundation.log(Swift.max(self, .leastNonzeroMagnitude)) }
}

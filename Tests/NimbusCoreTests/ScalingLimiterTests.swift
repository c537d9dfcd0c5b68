import Testing

@testable import NimbusInvoker

/// The per-function scaling rate: a token bucket with an injected clock.
@Suite struct ScalingLimiterTests {
    @Test func burstThenContinuousRefill() {
        let t0 = ContinuousClock.now
        var bucket = TokenBucket(capacity: 3, refillPerSecond: 10)
        for _ in 0..<3 { #expect(bucket.take(now: t0) == nil) }
        #expect(bucket.take(now: t0) == .milliseconds(100))
        #expect(bucket.take(now: t0 + .milliseconds(50)) == .milliseconds(50))
        #expect(bucket.take(now: t0 + .milliseconds(100)) == nil)
        // Never more than the capacity, however long the pause.
        for _ in 0..<3 { #expect(bucket.take(now: t0 + .seconds(100)) == nil) }
        #expect(bucket.take(now: t0 + .seconds(100)) != nil)
    }

    @Test func awsDefaultIsAThousandPerTenSecondsPerFunction() {
        let limiter = ScalingLimiter()
        let rate = ScalingLimiter.Rate()
        let t0 = ContinuousClock.now
        for _ in 0..<1000 { #expect(limiter.take(function: "a", rate: rate, now: t0) == nil) }
        #expect(limiter.take(function: "a", rate: rate, now: t0) != nil)
        #expect(limiter.take(function: "b", rate: rate, now: t0) == nil)
        for _ in 0..<1000 { #expect(limiter.take(function: "a", rate: rate, now: t0 + .seconds(10)) == nil) }
        #expect(limiter.take(function: "a", rate: rate, now: t0 + .seconds(10)) != nil)
    }
}

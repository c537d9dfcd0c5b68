import Foundation
import Testing

@testable import NimbusSchedules

/// What `ScheduleExpression(parsing:)` accepts and refuses: AWS's documented examples, the refusals AWS's pages and
/// recorded AWS answers show, and the corners where AWS's cron (Quartz's) differs from Unix cron.
@Suite struct ParsingTests {
    /// EventBridge's "Cron expressions reference" and "Rate expressions reference" examples, Scheduler's
    /// "Schedule types" examples, and expressions users recorded AWS accepting (localstack#13572, pyawscron#61).
    @Test(arguments: [
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0/30 20-2 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 0/4 * * ? *)",
        "cron(15 10 ? * 6L 2019-2022)",
        "cron(0 12 L * ? *)",
        "cron(0 12 LW * ? *)",
        "cron(0 12 15W * ? *)",
        "cron(0 12 L-3 * ? *)",
        "cron(0 12 ? * L *)",
        "cron(0-15/1 8-8 ? * 2,3,4,5,6,7 *)",
        "cron(30-30 13-13 ? * 2,4,6 *)",
        "cron(1-31/30 1-1 ? * 1,7 *)",
        "cron(0 0 1/10,2,3/8 * ? *)",
        "cron(*/5 * * * ? *)",
        "cron(*/15 * * * ? *)",
        "cron(0-59/10 0-23/2 ? * * *)",
        "cron(0 2 ? * SAT#3 *)",
        "cron(0/5 5 ? JAN 1-5 2022)",
        "cron(5,35 14 * * ? *)",
        "at(2035-12-31T23:59:59)",
        "rate(3 days)",
        "cron(0 0 1 jan ? 2027)",
        "cron(0 0 ? * fri#3 *)",
        "cron(0 0 ? JAN-MAR,NOV-DEC SUN *)",
        "cron(0 0 29 2 ? *)",
        "cron(59 23 31 12 ? 2199)",
        "cron(0 0 1 1 ? 1970)",
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "at(2022-11-20T13:00:00)",
        "at(2025-01-31T15:59:42)",
        "at(2024-02-29T00:00:00)",
    ])
    func accepts(_ text: String) throws {
        let expression = try ScheduleExpression(parsing: text)
        #expect(expression.text == text)
    }

    /// AWS refuses these: localstack's AWS-validated PutRule and CreateSchedule refusals (spaces inside rate(),
    /// upper-case units, `NOT`, `71`, `cron(0 1 * * * *)`, at() with a zone or without a time), a rate unit that
    /// disagrees with its value (EventBridge's rate reference and buildkite-agent-scaler#100's recorded answers), `cron(7 20 * * 1-7 *)` with both day fields set
    /// (localstack#12156, recorded against AWS), five fields (winglang#7115), `-1`, `3#1,6#3` (the cron reference's
    /// note), values out of range, a malformed `at()`.
    @Test(arguments: [
        "rate(1 minutes)",
        "rate(5 hour)",
        "rate(3 minute)",
        "rate(1 days)",
        "rate(0 minutes)",
        "rate(-1 minutes)",
        "rate(+5 minutes)",
        "rate(1.5 hours)",
        "rate(five minutes)",
        "rate(5 seconds)",
        "rate(5 weeks)",
        "rate(5)",
        "rate(5 minutes extra)",
        "rate(10 MINUTES)",
        "rate( 10 minutes )",
        "rate(10  minutes)",
        "rate(10\tminutes)",
        " rate(10 minutes)",
        "rate(10 minutes) ",
        "rate(10 years)",
        "rate(10 minutess)",
        "rate(foo minutes)",
        "rate(10)",
        "rate()",
        "rate(99999999999 days)",
        "rate(2147483648 minutes)",
        "cron(7 20 * * 1-7 *)",
        "cron(7 20 * * NOT *)",
        "cron(INVALID)",
        "cron(0 dummy ? * MON-FRI *)",
        "cron(71 8 1 * ? *)",
        "cron(0 1 * * * *)",
        "cron( 0 10 * * ? *)",
        "cron(0 10 * * ? * )",
        "cron(0  10 * * ? *)",
        "cron(0\t10 * * ? *)",
        "cron(15 12 * * 0)",
        "cron(15 12 ? * -1 *)",
        "cron(0 10 * * ? * *)",
        "cron(0 10 ? * ? *)",
        "cron(0 10 * * * *)",
        "cron(60 10 * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 0 32 * ? *)",
        "cron(0 0 0 * ? *)",
        "cron(0 0 ? 13 * *)",
        "cron(0 0 ? 0 * *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 ? * 0 *)",
        "cron(0 8 1 * ? 2200)",
        "cron(0 8 1 * ? 1969)",
        "cron(0 0 1 * ? 2030-2025)",
        "cron(0 0 ? * 3#1,6#3 *)",
        "cron(0 0 ? * 3#6 *)",
        "cron(0 0 ? * 3#0 *)",
        "cron(0 0 ? * 8#1 *)",
        "cron(0 0 ? * 1-2L *)",
        "cron(0 0 ? * 6L,2 *)",
        "cron(0 0 1,L * ? *)",
        "cron(0 0 W * ? *)",
        "cron(0 0 32W * ? *)",
        "cron(0 0 1,15W * ? *)",
        "cron(0 0 L-31 * ? *)",
        "cron(0 0 ? * FOO *)",
        "cron(0 0 1 JANUARY ? *)",
        "cron(0/0 * * * ? *)",
        "cron(0/ * * * ? *)",
        "cron(/5 * * * ? *)",
        "cron(0,,5 * * * ? *)",
        "cron(0, * * * ? *)",
        "cron(0- * * * ? *)",
        "cron(? * * * ? *)",
        "cron(0 ? * * ? *)",
        "cron(0 0 1,? * ? *)",
        "cron(0 0 1 * ? *",
        "cron()",
        "CRON(0 0 1 * ? *)",
        " cron(0 0 1 * ? *)",
        "cron(0 0 1 * ? *) ",
        "",
        "every 5 minutes",
        "at(2022-11-20 13:00:00)",
        "at(2022-11-31T13:00:00)",
        "at(2023-02-29T00:00:00)",
        "at(2022-11-20T24:00:00)",
        "at(2022-11-20T13:60:00)",
        "at(2022-11-20T13:00:60)",
        "at(2022-13-20T13:00:00)",
        "at(2022-00-20T13:00:00)",
        "at(22-11-20T13:00:00)",
        "at(2022-11-20T13:00:00Z)",
        "at(2022-11-20T13:00)",
        "at(2021-12-31T23:59:59Z)",
        "at(2021-12-31)",
        "at( 2022-11-20T13:00:00)",
    ])
    func refuses(_ text: String) {
        #expect(throws: ScheduleExpressionError.self) { try ScheduleExpression(parsing: text) }
    }

    @Test func errorsSayWhatIsWrong() {
        func message(_ text: String) -> String {
            do {
                _ = try ScheduleExpression(parsing: text)
                return ""
            } catch {
                return error.message
            }
        }
        #expect(message("cron(0 10 * * ?)").contains("six fields"))
        #expect(message("cron(0 10 * * * *)").contains("?"))
        #expect(message("cron(61 10 * * ? *)").contains("Minutes"))
        #expect(message("rate(1 minutes)").contains("singular"))
        #expect(message("tomorrow").contains("rate(value unit)"))
    }

    @Test func kinds() throws {
        let rate = try ScheduleExpression(parsing: "rate(5 minutes)")
        let cron = try ScheduleExpression(parsing: "cron(0 10 * * ? *)")
        let once = try ScheduleExpression(parsing: "at(2022-11-20T13:00:00)")
        #expect(rate.isRate && !rate.isCron && !rate.isOneTime)
        #expect(cron.isCron && !cron.isRate && !cron.isOneTime)
        #expect(once.isOneTime && !once.isRate && !once.isCron)
    }

    @Test func equalityAndHashingGoByText() throws {
        let a = try ScheduleExpression(parsing: "cron(0 10 * * ? *)")
        let b = try ScheduleExpression(parsing: "cron(0 10 * * ? *)")
        let c = try ScheduleExpression(parsing: "cron(0 10 ? * * *)")
        #expect(a == b)
        #expect(a != c)
        #expect(Set([a, b, c]).count == 2)
    }
}

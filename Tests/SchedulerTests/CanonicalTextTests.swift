@testable import Scheduler
import Testing

@Suite("Canonical text: one text per spec, and it parses back to the same spec")
struct CanonicalTextTests {
    @Test(arguments: [
        ("*/15 9-17 * * 1-5", "*/15 9-17 * * 1-5"),
        ("0 9 * JAN,APR,JUL,OCT MON-FRI", "0 9 * 1-10/3 1-5"),
        ("5,35 8-18/2 * * *", "5,35 8-18/2 * * *"),
        ("@daily", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@every 90m", "@every 1h30m"),
        ("@reboot", "@reboot"),
        ("0 6 * * 7", "0 6 * * 0"),
        ("0 0 * * 5-7", "0 0 * * 0,5,6"),
        ("0 0 1-31 * MON", "0 0 1-31 * 1"),
        ("0 0 */2 * MON", "0 0 */2 * 1"),
        ("0 12 1 * +MON", "0 12 1 * +1"),
        ("0 0 ? * ?", "0 0 * * *"),
        ("0 0 L,15W,LW * FRI#L,2#1", "0 0 15W,L,LW * 2#1,5#L"),
        ("30 0 12 * * *", "30 0 12 * * *"),
        ("0 0 0 1 1 * 2026,2027,2028", "0 0 0 1 1 * 2026-2028"),
        ("*/60 * * * *", "*/60 * * * *"),
        ("*/10,5 * * * *", "*/10,5 * * * *"),
        ("CRON_TZ=Europe/Berlin 0 9 * * 1-5", "CRON_TZ=Europe/Berlin 0 9 * * 1-5"),
    ])
    func canonicalText(input: String, canonical: String) throws {
        let expression = try CronExpression(parsing: input)
        #expect(expression.description == canonical)
        #expect(try CronExpression(parsing: canonical) == expression)
    }

    @Test("every conformance expression round-trips through its canonical text")
    func conformanceExpressionsRoundTrip() throws {
        let expressions = Set(ConformanceVectors.next.map(\.expr) + ConformanceVectors.accept.map(\.expr))
        for text in expressions {
            let expression = try CronExpression(parsing: text)
            let reparsed = try CronExpression(parsing: expression.description)
            #expect(reparsed == expression, "\(text) -> \(expression.description)")
            #expect(reparsed.description == expression.description)
        }
    }
}

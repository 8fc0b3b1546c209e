@testable import Scheduler
import Testing

/// One table row: the first fire times strictly after a wall time `from` in `tz`.
struct NextFireRow: CustomTestStringConvertible, Sendable {
    let expr: String, tz: String, from: String, next: [String]
    init(_ expr: String, _ tz: String, _ from: String, _ next: [String]) {
        (self.expr, self.tz, self.from, self.next) = (expr, tz, from, next)
    }
    var testDescription: String { "\(expr) [\(tz)] after \(from)" }

    func fires() throws -> [String] {
        let expression = try CronExpression(parsing: expr)
        let zone = try ZoneRules(identifier: expression.zoneName ?? tz)
        guard case .wall(let wall) = try RFC3339.parse(from) else { return [] }
        let start = zone.instant(forWall: wall.secondsSinceEpoch)
        return expression.schedule.nextFires(after: start, in: zone, count: next.isEmpty ? 3 : next.count)
            .map { RFC3339.format($0, in: zone) }
    }
}

@Suite("Next fire times of the dialect's extensions")
struct ExtensionNextFireTests {
    static let rows: [NextFireRow] = [
        .init("0 0 L * *", "UTC", "2028-01-15T00:00", ["2028-01-31T00:00:00+00:00", "2028-02-29T00:00:00+00:00", "2028-03-31T00:00:00+00:00"]),
        .init("0 0 L-2 * *", "UTC", "2027-02-01T00:00", ["2027-02-26T00:00:00+00:00", "2027-03-29T00:00:00+00:00", "2027-04-28T00:00:00+00:00"]),
        .init("0 0 LW * *", "UTC", "2027-01-01T00:00", ["2027-01-29T00:00:00+00:00", "2027-02-26T00:00:00+00:00", "2027-03-31T00:00:00+00:00"]),
        .init("0 0 15W * *", "UTC", "2027-05-01T00:00", ["2027-05-14T00:00:00+00:00", "2027-06-15T00:00:00+00:00", "2027-07-15T00:00:00+00:00", "2027-08-16T00:00:00+00:00"]),
        .init("0 0 1W * *", "UTC", "2027-04-02T00:00", ["2027-05-03T00:00:00+00:00", "2027-06-01T00:00:00+00:00"]),
        .init("0 0 31W * *", "UTC", "2027-09-01T00:00", ["2027-10-29T00:00:00+00:00", "2027-12-31T00:00:00+00:00"]),
        .init("0 0 * * FRI#L", "UTC", "2027-01-01T00:00", ["2027-01-29T00:00:00+00:00", "2027-02-26T00:00:00+00:00", "2027-03-26T00:00:00+00:00"]),
        .init("0 0 * * 5L", "UTC", "2027-01-01T00:00", ["2027-01-29T00:00:00+00:00", "2027-02-26T00:00:00+00:00"]),
        .init("0 0 * * 0L", "UTC", "2027-01-01T00:00", ["2027-01-31T00:00:00+00:00", "2027-02-28T00:00:00+00:00"]),
        .init("0 0 * * TUE#3", "UTC", "2027-01-01T00:00", ["2027-01-19T00:00:00+00:00", "2027-02-16T00:00:00+00:00", "2027-03-16T00:00:00+00:00"]),
        .init("0 0 * * 1#5", "UTC", "2027-01-01T00:00", ["2027-03-29T00:00:00+00:00", "2027-05-31T00:00:00+00:00", "2027-08-30T00:00:00+00:00"]),
        .init("30 0 12 * * *", "UTC", "2027-01-01T12:00:30", ["2027-01-02T12:00:30+00:00", "2027-01-03T12:00:30+00:00"]),
        .init("*/20 * * * * *", "UTC", "2027-01-01T12:00:30", ["2027-01-01T12:00:40+00:00", "2027-01-01T12:01:00+00:00", "2027-01-01T12:01:20+00:00"]),
        .init("0 0 12 * * ? 2030", "UTC", "2026-01-01T00:00", ["2030-01-01T12:00:00+00:00", "2030-01-02T12:00:00+00:00"]),
        .init("0 0 0 1 1 * 2026-2028", "UTC", "2026-06-01T00:00", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"]),
        .init("@every 90m", "UTC", "2026-03-08T01:00", ["2026-03-08T01:30:00+00:00", "2026-03-08T03:00:00+00:00", "2026-03-08T04:30:00+00:00"]),
        .init("@every 1h", "Asia/Kolkata", "2026-03-08T01:10", ["2026-03-08T02:00:00+05:30", "2026-03-08T03:00:00+05:30"]),
        .init("0 12 1 * +MON", "UTC", "2027-01-01T00:00", ["2027-02-01T12:00:00+00:00", "2027-03-01T12:00:00+00:00", "2027-11-01T12:00:00+00:00"]),
        .init("0 0 */2 * MON", "UTC", "2027-01-01T00:00", ["2027-01-11T00:00:00+00:00", "2027-01-25T00:00:00+00:00", "2027-02-01T00:00:00+00:00"]),
        .init("0 0 1,15 * MON", "UTC", "2027-01-01T00:00", ["2027-01-04T00:00:00+00:00", "2027-01-11T00:00:00+00:00", "2027-01-15T00:00:00+00:00"]),
        .init("0 0 29 2 +MON", "UTC", "2027-01-01T00:00", ["2044-02-29T00:00:00+00:00", "2072-02-29T00:00:00+00:00"]),
        .init("CRON_TZ=Asia/Kolkata 0 9 * * *", "UTC", "2027-01-01T00:00", ["2027-01-01T09:00:00+05:30"]),
        .init("TZ=America/New_York 0 9 * * *", "UTC", "2027-01-01T00:00", ["2027-01-01T09:00:00-05:00"]),
    ]

    @Test(arguments: rows)
    func extensionFires(_ row: NextFireRow) throws {
        #expect(try row.fires() == row.next)
    }

    @Test("specs that never fire yield nothing, without searching forever", arguments: [
        "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 0 1 1 * 1999-2025", "@reboot", "0 0 0 * 2 MON#5 2027",
    ])
    func neverFires(_ expr: String) throws {
        let row = NextFireRow(expr, "UTC", "2027-01-01T00:00", [])
        #expect(try row.fires().isEmpty)
    }
}

@Suite("Next fire times across DST in real zones")
struct DaylightSavingNextFireTests {
    static let rows: [NextFireRow] = [
        // Fixed-time schedules: gap readings collapse into one fire at the end of the gap.
        .init("30 2 * * *", "America/New_York", "2027-03-13T12:00", ["2027-03-14T03:00:00-04:00", "2027-03-15T02:30:00-04:00"]),
        .init("15,45 2 * * *", "America/New_York", "2027-03-14T00:00", ["2027-03-14T03:00:00-04:00", "2027-03-15T02:15:00-04:00", "2027-03-15T02:45:00-04:00"]),
        .init("30 2 * * *", "Europe/Berlin", "2027-03-27T12:00", ["2027-03-28T03:00:00+02:00", "2027-03-29T02:30:00+02:00"]),
        .init("0 2 * * *", "Australia/Lord_Howe", "2027-10-02T12:00", ["2027-10-03T02:30:00+11:00", "2027-10-04T02:00:00+11:00"]),
        // Fixed-time schedules: fold readings fire once, at the first occurrence.
        .init("30 1 * * *", "America/New_York", "2027-11-06T12:00", ["2027-11-07T01:30:00-04:00", "2027-11-08T01:30:00-05:00"]),
        .init("30 2 * * *", "Europe/Berlin", "2027-10-30T12:00", ["2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00"]),
        .init("45 1 * * *", "Australia/Lord_Howe", "2027-04-03T12:00", ["2027-04-04T01:45:00+11:00", "2027-04-05T01:45:00+10:30"]),
        // Wildcard schedules follow the wall clock: no fire in a gap, two in a fold.
        .init("@every 30m", "America/New_York", "2027-03-14T00:45", ["2027-03-14T01:00:00-05:00", "2027-03-14T01:30:00-05:00", "2027-03-14T03:00:00-04:00"]),
        .init("*/30 2 * * *", "Europe/Berlin", "2027-03-28T00:00", ["2027-03-29T02:00:00+02:00", "2027-03-29T02:30:00+02:00"]),
        .init("*/20 1 * * *", "America/New_York", "2027-11-07T00:00", [
            "2027-11-07T01:00:00-04:00", "2027-11-07T01:20:00-04:00", "2027-11-07T01:40:00-04:00",
            "2027-11-07T01:00:00-05:00", "2027-11-07T01:20:00-05:00", "2027-11-07T01:40:00-05:00",
        ]),
        .init("0 * * * *", "Europe/Berlin", "2027-10-31T01:30", ["2027-10-31T02:00:00+02:00", "2027-10-31T02:00:00+01:00", "2027-10-31T03:00:00+01:00"]),
        .init("*/15 1 * * *", "Australia/Lord_Howe", "2027-04-04T01:20", [
            "2027-04-04T01:30:00+11:00", "2027-04-04T01:45:00+11:00", "2027-04-04T01:30:00+10:30",
            "2027-04-04T01:45:00+10:30", "2027-04-05T01:00:00+10:30",
        ]),
    ]

    @Test(arguments: rows)
    func daylightSaving(_ row: NextFireRow) throws {
        #expect(try row.fires() == row.next)
    }

    @Test("a run of fires never repeats an instant or goes backwards")
    func firesStrictlyIncrease() throws {
        let zone = try ZoneRules(identifier: "Australia/Lord_Howe")
        for expr in ["* * * * *", "*/7 1-3 * * *", "0 2 * * *", "@every 13m"] {
            let fires = try CronExpression(parsing: expr).schedule.nextFires(after: 1_790_000_000, in: zone, count: 3000)
            #expect(zip(fires, fires.dropFirst()).allSatisfy { $0 < $1 }, "\(expr)")
        }
    }
}

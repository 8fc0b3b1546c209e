@testable import Scheduler
import Testing

/// One row: the changes a TZ string's rule makes in a year, as "instant offset" pairs.
struct PosixRuleRow: CustomTestStringConvertible, Sendable {
    let rule: String, year: Int, changes: [String]
    init(_ rule: String, _ year: Int, _ changes: [String]) { (self.rule, self.year, self.changes) = (rule, year, changes) }
    var testDescription: String { "\(rule) in \(year)" }
}

@Suite("POSIX TZ rules of TZif footers")
struct PosixZoneRuleTests {
    static let rows: [PosixRuleRow] = [
        .init("CET-1CEST,M3.5.0,M10.5.0/3", 2026, ["2026-03-29T01:00:00Z 7200", "2026-10-25T01:00:00Z 3600"]),
        .init("EST5EDT,M3.2.0,M11.1.0", 2027, ["2027-03-14T07:00:00Z -14400", "2027-11-07T06:00:00Z -18000"]),
        // Southern hemisphere, 30-minute DST, quoted names: DST ends in April, starts in October.
        .init("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 2026, ["2026-04-04T15:00:00Z 37800", "2026-10-03T15:30:00Z 39600"]),
        .init("<+0330>-3:30", 2026, []),
        // Version 3: negative transition times (Nuuk) and hours past 24 (DST all year).
        .init("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 2026, ["2026-03-29T01:00:00Z -3600", "2026-10-25T01:00:00Z -7200"]),
        .init("EST5EDT,0/0,J365/25", 2026, ["2026-01-01T05:00:00Z -14400", "2027-01-01T05:00:00Z -18000"]),
        // Jn never counts February 29 (J60 is March 1); zero-based n does (59 is February 29 in 2024).
        .init("AAA-2BBB,J60,J300", 2024, ["2024-03-01T00:00:00Z 10800", "2024-10-26T23:00:00Z 7200"]),
        .init("AAA-2BBB,59,299", 2024, ["2024-02-29T00:00:00Z 10800", "2024-10-25T23:00:00Z 7200"]),
        // Week 5 is the last such weekday, in a month with four or five of them.
        .init("AAA-2BBB-3,M2.5.0/0,M12.5.3/0", 2026, ["2026-02-21T22:00:00Z 10800", "2026-12-29T21:00:00Z 7200"]),
    ]

    @Test("a rule's changes in a year", arguments: rows)
    func changes(row: PosixRuleRow) throws {
        let rule = try PosixRuleScanner.parse(row.rule)
        let changes = rule.transitions(inYear: row.year).map { RFC3339.format($0.at, in: .utc).replacingPlusZero + " \($0.utOffset)" }
        #expect(changes == row.changes)
    }

    @Test("malformed rules are refused with a column", arguments: [
        ("", PosixRuleError.badName(column: 1)),
        ("CET", .expected("hours", column: 4)),
        ("CE-1", .badName(column: 1)),
        ("<+1>-1", .badName(column: 1)),
        ("CET-25", .outOfRange("hours", value: 25, column: 5)),
        ("CET-1:60", .outOfRange("minutes", value: 60, column: 7)),
        ("CET-1CEST", .missingDates),
        ("CET-1CEST,M13.5.0,M10.5.0", .outOfRange("month", value: 13, column: 12)),
        ("CET-1CEST,M3.6.0,M10.5.0", .outOfRange("week", value: 6, column: 14)),
        ("CET-1CEST,M3.5.0", .expected("\",\" before the DST end date", column: 17)),
        ("CET-1CEST,J0,J365", .outOfRange("Julian day", value: 0, column: 12)),
        ("CET-1CEST,M3.5.0,M10.5.0/168", .outOfRange("hours", value: 168, column: 26)),
        ("CET-1CEST,M3.5.0,M10.5.0x", .expected("the end of the rule", column: 25)),
    ])
    func malformed(text: String, error: PosixRuleError) {
        #expect(throws: error) { try PosixRuleScanner.parse(text) }
    }

    @Test("DST all year (version 3) leaves one period from the first start, not one per year")
    func daylightAllYear() throws {
        let tzif = TZif(version: 3, transitions: [], typeOffsets: [-18000], footer: "EST5EDT,0/0,J365/25")
        let table = try ZoneTable(tzif, until: ZoneRules.tableEnd, rulesFrom: 1900)
        #expect(table.starts == [.min, -2_208_970_800])    // 1900-01-01T05:00:00Z
        #expect(table.offsets == [-18000, -14400])
    }
}

private extension String {
    /// `2026-03-29T01:00:00Z` rather than RFC3339's `+00:00`, to keep rows short.
    var replacingPlusZero: String { hasSuffix("+00:00") ? String(dropLast(6)) + "Z" : self }
}

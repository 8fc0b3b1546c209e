@testable import Scheduler
import Testing

@Suite("Parsing: bad input names the field, the column and the reason")
struct CronRejectTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let expr: String, error: CronParseError
        init(_ expr: String, _ error: CronParseError) { (self.expr, self.error) = (expr, error) }
        var testDescription: String { "\"\(expr)\"" }
    }

    static let rows: [Row] = [
        .init("", .empty),
        .init("   ", .empty),
        .init("* * * *", .fieldCount(found: 4)),
        .init("61 * * * *", .badField(.minute, column: 1, reason: "61 is out of range 0-59")),
        .init("5-1 * * * *", .badField(.minute, column: 1, reason: "range 5-1 is reversed: write the smaller value first")),
        .init("* * * * FRI-MON", .badField(.dayOfWeek, column: 9, reason: "range FRI-MON is reversed: write the smaller value first")),
        .init("@Daily", .badNickname("@Daily", column: 1)),
        .init("@yearly extra", .trailingText(after: "@yearly", column: 9)),
        .init("* 24 * * *", .badField(.hour, column: 3, reason: "24 is out of range 0-23")),
        .init("0 0 1,  * *", .badField(.dayOfMonth, column: 7, reason: "a list item is missing")),
        .init("1, * * * *", .badField(.minute, column: 3, reason: "a list item is missing")),
        .init("*/0 * * * *", .badField(.minute, column: 3, reason: "step 0 must be at least 1")),
        .init("? * * * *", .badField(.minute, column: 1, reason: "'?' is allowed only in the day-of-month and day-of-week fields")),
        .init("+1 * * * *", .badField(.minute, column: 1, reason: "'+' is allowed only at the start of the day-of-week field")),
        .init("* * * * JAN", .badField(.dayOfWeek, column: 9, reason: "unknown value 'JAN': not a day-of-week name")),
        .init("* MON * * *", .badField(.hour, column: 3, reason: "unknown value 'MON': names are not allowed here")),
        .init("* * * * 1#6", .badField(.dayOfWeek, column: 11, reason: "'#6': the occurrence must be 1-5 or L")),
        .init("0 0 L-31 * *", .badField(.dayOfMonth, column: 7, reason: "L-31: the offset must be 1-30")),
        .init("0 0 1 1 * * 1969", .badField(.year, column: 13, reason: "1969 is out of range 1970-2099")),
        .init("1 ٣ * * *", .badField(.hour, column: 3, reason: "unexpected character '٣'")),
        .init("CRON_TZ=Mars/Base 0 9 * * *", .badZone("Mars/Base", column: 9)),
        .init("@every 5x", .badDuration("5x", column: 8, reason: "unknown unit 'x' (use s, m, h or d)")),
        .init("@every 0s", .badDuration("0s", column: 8, reason: "must be between 1s and 3660d")),
        .init("99999999999999999999 * * * *", .badField(.minute, column: 1, reason: "99999999999999999999 is out of range 0-59")),
    ]

    @Test(arguments: rows)
    func rejected(_ row: Row) {
        #expect(throws: row.error) { try CronExpression(parsing: row.expr) }
    }

    @Test("question mark stands for star in the day fields")
    func questionMarkIsStarInDayFields() throws {
        #expect(try CronExpression(parsing: "0 0 ? * MON") == CronExpression(parsing: "0 0 * * MON"))
    }
}

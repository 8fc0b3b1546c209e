/// Why a cron expression was refused, with the 1-based column of the offending text.
public enum CronParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case fieldCount(found: Int)
    case badNickname(String, column: Int)
    case trailingText(after: String, column: Int)
    case badDuration(String, column: Int, reason: String)
    case badZone(String, column: Int)
    case badField(CronField, column: Int, reason: String)

    /// The column the error points at (1-based; 0 when the whole expression is at fault).
    public var column: Int {
        switch self {
        case .empty, .fieldCount: 0
        case .badNickname(_, let column), .trailingText(_, let column), .badDuration(_, let column, _), .badZone(_, let column),
             .badField(_, let column, _): column
        }
    }

    public var description: String {
        switch self {
        case .empty:
            "the expression is empty"
        case .fieldCount(let found):
            "expected 5 fields (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (seconds first, year last), found \(found)"
        case .badNickname(let text, let column):
            "column \(column): unknown nickname \"\(text)\" (known, lower case only: "
                + "@yearly @annually @monthly @weekly @daily @midnight @hourly @reboot @every DURATION)"
        case .trailingText(let nickname, let column):
            "column \(column): nothing may follow \(nickname)"
        case .badDuration(let text, let column, let reason):
            "column \(column): invalid @every duration \"\(text)\": \(reason)"
        case .badZone(let zone, let column):
            "column \(column): unknown time zone \"\(zone)\""
        case .badField(let field, let column, let reason):
            "\(field.rawValue) field, column \(column): \(reason)"
        }
    }
}

/// One position of a cron expression: its allowed values and, for months and weekdays, its names.
public enum CronField: String, Sendable, CaseIterable {
    case second
    case minute
    case hour
    case dayOfMonth = "day-of-month"
    case month
    case dayOfWeek = "day-of-week"
    case year

    /// The values a plain number may take. Day-of-week accepts 7 as a second Sunday.
    var bounds: ClosedRange<Int> {
        switch self {
        case .second, .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        case .year: CronField.years
        }
    }

    /// Years a seven-field expression may name (Quartz's range).
    static let years = 1970...2099

    var names: [String: Int] {
        switch self {
        case .month: CronField.monthNames
        case .dayOfWeek: CronField.weekdayNames
        default: [:]
        }
    }

    var isDayField: Bool { self == .dayOfMonth || self == .dayOfWeek }

    static let monthNames: [String: Int] = [
        "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
        "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
    ]
    static let weekdayNames: [String: Int] = [
        "SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6,
    ]
}

/// Day-of-month entries that depend on the month's length or weekdays (Quartz extensions).
public enum DayOfMonthRule: Hashable, Sendable {
    /// `L` (offset 0) or `L-n`: the last day of the month, or n days before it.
    case last(offset: Int)
    /// `nW`: the weekday (Mon–Fri) nearest day n, without leaving the month.
    case nearestWeekday(Int)
    /// `LW`: the last weekday (Mon–Fri) of the month.
    case lastWeekday
}

/// Day-of-week entries that pick one occurrence in the month.
public enum DayOfWeekRule: Hashable, Sendable {
    /// `DOW#n`: the n-th such weekday of the month (1–5).
    case nth(weekday: Int, n: Int)
    /// `DOW#L` or `DOWL`: the last such weekday of the month.
    case last(weekday: Int)
}

extension DayOfMonthRule {
    /// The day of the month this rule picks, or nil when the month has no such day.
    func day(length: Int, firstWeekday: Int) -> Int? {
        func weekday(_ day: Int) -> Int { (firstWeekday + day - 1) % 7 }
        switch self {
        case .last(let offset):
            return length - offset >= 1 ? length - offset : nil
        case .lastWeekday:
            switch weekday(length) {
            case 6: return length - 1
            case 0: return length - 2
            default: return length
            }
        case .nearestWeekday(let day):
            guard day <= length else { return nil }
            switch weekday(day) {
            case 6: return day == 1 ? 3 : day - 1
            case 0: return day == length ? day - 2 : day + 1
            default: return day
            }
        }
    }
}

extension DayOfWeekRule {
    /// The day of the month this rule picks, or nil when the month has no such occurrence.
    func day(length: Int, firstWeekday: Int) -> Int? {
        switch self {
        case .nth(let weekday, let n):
            let day = (weekday - firstWeekday + 7) % 7 + 1 + 7 * (n - 1)
            return day <= length ? day : nil
        case .last(let weekday):
            let lastWeekday = (firstWeekday + length - 1) % 7
            return length - (lastWeekday - weekday + 7) % 7
        }
    }
}

/// Proleptic Gregorian date arithmetic on plain integers (Howard Hinnant's algorithms): no Foundation, no zone.
enum CivilCalendar {
    static let secondsPerDay: Int64 = 86_400

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a civil date.
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func date(days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// Weekday of a civil date, Sunday = 0.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        weekday(days: days(year: year, month: month, day: day))
    }

    static func weekday(days: Int64) -> Int {
        Int(((days + 4) % 7 + 7) % 7)
    }
}

/// A reading of a wall clock, with no zone: what a cron field is matched against.
public struct WallTime: Hashable, Sendable, Comparable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    /// The reading as seconds since the wall clock showed 1970-01-01 00:00:00.
    public var secondsSinceEpoch: Int64 {
        CivilCalendar.days(year: year, month: month, day: day) * CivilCalendar.secondsPerDay
            + Int64(hour * 3600 + minute * 60 + second)
    }

    public init(secondsSinceEpoch seconds: Int64) {
        let days = seconds >= 0 ? seconds / CivilCalendar.secondsPerDay : (seconds + 1) / CivilCalendar.secondsPerDay - 1
        let rest = Int(seconds - days * CivilCalendar.secondsPerDay)
        let date = CivilCalendar.date(days: days)
        self.init(year: date.year, month: date.month, day: date.day,
                  hour: rest / 3600, minute: rest / 60 % 60, second: rest % 60)
    }

    public var weekday: Int { CivilCalendar.weekday(year: year, month: month, day: day) }

    public static func < (a: WallTime, b: WallTime) -> Bool { a.secondsSinceEpoch < b.secondsSinceEpoch }
}

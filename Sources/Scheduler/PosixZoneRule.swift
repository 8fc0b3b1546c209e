/// The rule of a POSIX TZ string such as `CET-1CEST,M3.5.0,M10.5.0/3`, as in a TZif footer (RFC 8536
/// section 3.3, with version 3's extended hours): it gives a zone's transitions after the file's last.
struct PosixZoneRule: Equatable {
    /// The day of a change within a year.
    enum Day: Equatable {
        /// `Jn`: day 1...365 of the year, February 29 never counted (J60 is always March 1).
        case julian(Int)
        /// `n`: day 0...365 of the year, February 29 counted in leap years.
        case zeroBased(Int)
        /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` of month `m`; week 5 is the last such weekday.
        case monthWeekday(month: Int, week: Int, weekday: Int)
    }

    /// When DST starts or ends: a day and a local time in seconds, which version 3 lets be negative or
    /// past 24:00 (`M3.5.0/-1`, `J365/25`).
    struct Change: Equatable {
        var day: Day
        var time: Int
    }

    struct Daylight: Equatable {
        var utOffset: Int32
        var start: Change
        var end: Change
    }

    /// UTC offset in seconds of standard time (east positive, unlike the TZ string's sign).
    var standardOffset: Int32
    var daylight: Daylight?

    /// The changes in `year`, in order: each is an instant and the UTC offset from it on. Start times are
    /// read in standard time and end times in DST, as POSIX says; a southern zone ends DST first.
    func transitions(inYear year: Int) -> [(at: Int64, utOffset: Int32)] {
        guard let daylight else { return [] }
        let start = Self.instant(of: daylight.start, in: year, utOffset: standardOffset)
        let end = Self.instant(of: daylight.end, in: year, utOffset: daylight.utOffset)
        let changes = [(at: start, utOffset: daylight.utOffset), (at: end, utOffset: standardOffset)]
        return end < start ? changes.reversed() : changes
    }

    private static func instant(of change: Change, in year: Int, utOffset: Int32) -> Int64 {
        days(of: change.day, in: year) * CivilCalendar.secondsPerDay + Int64(change.time) - Int64(utOffset)
    }

    /// Days since 1970-01-01 of the change's day in `year`.
    static func days(of day: Day, in year: Int) -> Int64 {
        let newYear = CivilCalendar.days(year: year, month: 1, day: 1)
        switch day {
        case .julian(let n):
            return newYear + Int64(n - 1) + (CivilCalendar.isLeap(year) && n >= 60 ? 1 : 0)
        case .zeroBased(let n):
            return newYear + Int64(n)
        case .monthWeekday(let month, let week, let weekday):
            let firstWeekday = CivilCalendar.weekday(year: year, month: month, day: 1)
            var day = 1 + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
            if day > CivilCalendar.daysIn(year: year, month: month) { day -= 7 }
            return CivilCalendar.days(year: year, month: month, day: day)
        }
    }
}

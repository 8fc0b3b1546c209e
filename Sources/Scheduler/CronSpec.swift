/// A calendar cron specification compiled to bitmasks: the pure value that next-fire search walks.
public struct CronSpec: Hashable, Sendable {
    public enum DayCombination: Hashable, Sendable {
        /// A day matches if both day fields match (either field starts with `*`/`?`, or `+` before day-of-week).
        case and
        /// Vixie's rule when both day fields are restricted: a day matches if either matches.
        case or
    }

    var seconds: UInt64
    var minutes: UInt64
    var hours: UInt32
    var daysOfMonth: UInt32          // bits 1...31
    var months: UInt16               // bits 1...12
    var weekdays: UInt8              // bits 0...6, Sunday = 0
    var years: YearSet?              // nil: every year
    var dayOfMonthRules: [DayOfMonthRule]
    var dayOfWeekRules: [DayOfWeekRule]
    var minuteStarred: Bool
    var hourStarred: Bool
    var dayOfMonthStarred: Bool
    var dayOfWeekStarred: Bool
    var combination: DayCombination

    /// Neither the minute nor the hour field starts with `*`: the DST rule for fixed-time jobs applies.
    public var isFixedTime: Bool { !minuteStarred && !hourStarred }

    /// The weekday mask repeated six times (bit k = weekday k % 7, k < 42), so a month's weekday days are one shift.
    var weekdaysRepeated: UInt64

    init(fields: [CronField: ParsedField]) {
        func mask(_ field: CronField) -> UInt64 {
            guard let parsed = fields[field] else { return field == .second ? 1 : 0 }
            var bits: UInt64 = 0
            for (value, on) in parsed.values.enumerated() where on && value < 64 { bits |= 1 << UInt64(value) }
            return bits
        }
        seconds = mask(.second)
        minutes = mask(.minute)
        hours = UInt32(mask(.hour))
        daysOfMonth = UInt32(mask(.dayOfMonth))
        months = UInt16(mask(.month))
        weekdays = UInt8(mask(.dayOfWeek) & 0x7f)
        years = fields[.year].flatMap { YearSet(values: $0.values) }
        let dom = fields[.dayOfMonth]!, dow = fields[.dayOfWeek]!
        dayOfMonthRules = Array(Set(dom.dayOfMonthRules)).sorted { $0.text < $1.text }
        dayOfWeekRules = Array(Set(dow.dayOfWeekRules)).sorted { $0.text < $1.text }
        minuteStarred = fields[.minute]!.starred
        hourStarred = fields[.hour]!.starred
        dayOfMonthStarred = dom.starred
        dayOfWeekStarred = dow.starred
        combination = dom.starred || dow.starred || dow.andModifier ? .and : .or
        var repeated: UInt64 = 0
        for copy in 0..<6 { repeated |= UInt64(weekdays) << UInt64(7 * copy) }
        weekdaysRepeated = repeated
    }

    /// The days of `month` in `year` that match both day fields, as bits 1...31.
    func dayMask(year: Int, month: Int) -> UInt32 {
        let length = CivilCalendar.daysIn(year: year, month: month)
        let valid: UInt32 = (UInt32(1) << UInt32(length + 1)) &- 2
        let first = CivilCalendar.weekday(year: year, month: month, day: 1)
        var byDate = daysOfMonth
        for rule in dayOfMonthRules {
            if let day = rule.day(length: length, firstWeekday: first) { byDate |= 1 << UInt32(day) }
        }
        // Bit d of the shifted pattern is weekday (first + d - 1) % 7.
        var byWeekday = UInt32(truncatingIfNeeded: (weekdaysRepeated << 7) >> UInt64(first + 6))
        for rule in dayOfWeekRules {
            if let day = rule.day(length: length, firstWeekday: first) { byWeekday |= 1 << UInt32(day) }
        }
        switch combination {
        case .and: return byDate & byWeekday & valid
        case .or: return (byDate | byWeekday) & valid
        }
    }
}

/// The years of a seven-field expression, 1970...2099, as a bitset.
struct YearSet: Hashable, Sendable {
    private var words: [UInt64] = [0, 0, 0]

    init?(values: [Bool]) {
        for year in CronField.years where values[year] { insert(year) }
        if CronField.years.allSatisfy({ values[$0] }) { return nil }
    }

    private mutating func insert(_ year: Int) {
        let bit = year - CronField.years.lowerBound
        words[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    func contains(_ year: Int) -> Bool {
        guard CronField.years.contains(year) else { return false }
        let bit = year - CronField.years.lowerBound
        return words[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    /// The first year in the set at or after `year`.
    func first(onOrAfter year: Int) -> Int? {
        var y = max(year, CronField.years.lowerBound)
        while y <= CronField.years.upperBound {
            if contains(y) { return y }
            y += 1
        }
        return nil
    }

    var sorted: [Int] { CronField.years.filter(contains) }
}

/// Finding the first wall-clock reading that a spec matches, field by field, coarsest first.
extension CronSpec {
    /// How far ahead the search looks before it declares a spec that never fires: one Gregorian cycle,
    /// after which every combination of date and weekday has repeated.
    static let searchHorizonYears = 400

    /// The first reading at or after `start` (wall seconds since 1970) that matches, or nil if none within the horizon.
    func firstMatch(onOrAfter start: Int64) -> Int64? {
        let from = WallTime(secondsSinceEpoch: start)
        var (year, month, day) = (from.year, from.month, from.day)
        var (hour, minute, second) = (from.hour, from.minute, from.second)
        let lastYear = min(from.year + Self.searchHorizonYears, years == nil ? Int.max : CronField.years.upperBound)
        var cachedMonth = (year: 0, month: 0, mask: UInt32(0))

        while year <= lastYear {
            if let years, !years.contains(year) {
                guard let next = years.first(onOrAfter: year + 1) else { return nil }
                (year, month, day, hour, minute, second) = (next, 1, 1, 0, 0, 0)
                continue
            }
            guard let m = Self.nextBit(UInt64(months), from: month) else {
                (year, month, day, hour, minute, second) = (year + 1, 1, 1, 0, 0, 0)
                continue
            }
            if m != month { (month, day, hour, minute, second) = (m, 1, 0, 0, 0) }
            if cachedMonth.year != year || cachedMonth.month != month {
                cachedMonth = (year, month, dayMask(year: year, month: month))
            }
            guard let d = Self.nextBit(UInt64(cachedMonth.mask), from: day) else {
                (month, day, hour, minute, second) = (month + 1, 1, 0, 0, 0)
                if month > 12 { (year, month) = (year + 1, 1) }
                continue
            }
            if d != day { (day, hour, minute, second) = (d, 0, 0, 0) }
            guard let h = Self.nextBit(UInt64(hours), from: hour) else {
                (day, hour, minute, second) = (day + 1, 0, 0, 0)
                continue
            }
            if h != hour { (hour, minute, second) = (h, 0, 0) }
            guard let mi = Self.nextBit(minutes, from: minute) else {
                (hour, minute, second) = (hour + 1, 0, 0)
                continue
            }
            if mi != minute { (minute, second) = (mi, 0) }
            guard let s = Self.nextBit(seconds, from: second) else {
                (minute, second) = (minute + 1, 0)
                continue
            }
            return WallTime(year: year, month: month, day: day, hour: hour, minute: minute, second: s).secondsSinceEpoch
        }
        return nil
    }

    /// The lowest set bit at or above `index`.
    @inline(__always)
    static func nextBit(_ mask: UInt64, from index: Int) -> Int? {
        guard index < 64 else { return nil }
        let rest = mask >> UInt64(index)
        return rest == 0 ? nil : index + rest.trailingZeroBitCount
    }
}

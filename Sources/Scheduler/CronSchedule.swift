/// What a parsed expression fires on: calendar fields, a fixed wall-clock interval, or daemon start.
public enum CronSchedule: Hashable, Sendable {
    case calendar(CronSpec)
    /// `@every DUR`: wall-clock readings that are whole multiples of the interval since 1970-01-01 00:00.
    case every(seconds: Int64)
    /// `@reboot`: once when the daemon starts; never from the calendar.
    case reboot

    /// The first fire instant strictly after `instant` (seconds since 1970 UTC) in `zone`, or nil if it never fires.
    ///
    /// DST, per zone (Debian cron's rule): a fixed-time spec whose reading falls in a spring-forward gap fires
    /// once at the first instant after the gap, and once only in a fall-back fold (the first occurrence);
    /// every other schedule follows the wall clock, so skipped readings never fire and repeated ones fire twice.
    public func nextFire(after instant: Int64, in zone: ZoneRules) -> Int64? {
        guard Self.searchableInstants.contains(instant) else { return nil }
        let collapsesDST = isFixedTime
        var period = zone.period(containing: instant + 1)
        var wallFrom = instant + 1 + Int64(zone.offsets[period])
        if collapsesDST, period > 0, zone.offsets[period - 1] > zone.offsets[period] {
            wallFrom = max(wallFrom, zone.starts[period] + Int64(zone.offsets[period - 1]))
        }
        var match = firstMatch(onOrAfter: wallFrom)
        var searchedFrom = wallFrom
        while let wall = match {
            let end = zone.end(ofPeriod: period)
            let offset = Int64(zone.offsets[period])
            if end == .max || wall < end + offset { return wall - offset }
            let nextOffset = Int64(zone.offsets[period + 1])
            if collapsesDST && nextOffset > offset && wall < end + nextOffset { return end }
            // Readings from here on belong to the next period; a fixed-time spec skips the repeated ones.
            let nextFrom = collapsesDST ? end + max(offset, nextOffset) : end + nextOffset
            // No reading in [searchedFrom, wall) matches, so the match stands if nextFrom lies in that span.
            if nextFrom < searchedFrom || nextFrom > wall {
                match = firstMatch(onOrAfter: nextFrom)
                searchedFrom = nextFrom
            }
            period += 1
        }
        return nil
    }

    /// Years 1 to 9999: the calendar arithmetic cannot overflow anywhere in this span.
    static let searchableInstants: Range<Int64> = -62_135_596_800..<253_402_300_800

    /// Up to `count` successive fire instants after `instant`.
    public func nextFires(after instant: Int64, in zone: ZoneRules, count: Int) -> [Int64] {
        var fires: [Int64] = []
        var cursor = instant
        while fires.count < count, let next = nextFire(after: cursor, in: zone) {
            fires.append(next)
            cursor = next
        }
        return fires
    }

    /// Fixed-time schedules collapse DST gaps and folds; wildcard ones follow the wall clock.
    public var isFixedTime: Bool {
        if case .calendar(let spec) = self { return spec.isFixedTime }
        return false
    }

    private func firstMatch(onOrAfter wall: Int64) -> Int64? {
        switch self {
        case .calendar(let spec):
            return spec.firstMatch(onOrAfter: wall)
        case .every(let interval):
            let (quotient, remainder) = wall.quotientAndRemainder(dividingBy: interval)
            let steps = remainder > 0 ? quotient + 1 : quotient
            return steps.multipliedReportingOverflow(by: interval).overflow ? nil : steps * interval
        case .reboot:
            return nil
        }
    }
}

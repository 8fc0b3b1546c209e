@testable import Scheduler
import Testing

@Suite("Civil calendar, zones and timestamps")
struct CalendarTests {
    @Test("day counts and dates agree for every day from 1600 to 2500")
    func daysRoundTrip() {
        var days = CivilCalendar.days(year: 1600, month: 1, day: 1)
        let last = CivilCalendar.days(year: 2500, month: 12, day: 31)
        var weekday = CivilCalendar.weekday(days: days)
        while days <= last {
            let date = CivilCalendar.date(days: days)
            #expect(CivilCalendar.days(year: date.year, month: date.month, day: date.day) == days)
            #expect(CivilCalendar.weekday(days: days) == weekday)
            days += 1
            weekday = (weekday + 1) % 7
        }
        #expect(CivilCalendar.weekday(year: 1970, month: 1, day: 1) == 4)
        #expect(CivilCalendar.weekday(year: 2026, month: 11, day: 22) == 0)
    }

    @Test(arguments: [
        ("2026-03-08T01:30:00-05:00", RFC3339.Parsed.instant(1_772_951_400)),
        ("2026-03-08T06:30:00Z", .instant(1_772_951_400)),
        ("2026-03-08T06:30:00.250Z", .instant(1_772_951_400)),
        ("2026-03-08T01:30", .wall(WallTime(year: 2026, month: 3, day: 8, hour: 1, minute: 30))),
        ("2026-03-08 01:30:15", .wall(WallTime(year: 2026, month: 3, day: 8, hour: 1, minute: 30, second: 15))),
        ("2026-03-08", .wall(WallTime(year: 2026, month: 3, day: 8))),
    ])
    func timestampsParse(text: String, expected: RFC3339.Parsed) throws {
        #expect(try RFC3339.parse(text) == expected)
    }

    @Test(arguments: ["", "2026-3-8", "2026-02-30T00:00", "2026-03-08T25:00", "2026-03-08T01:30+5", "tomorrow", "2026-03-08T01:30:00-05:00x"])
    func badTimestampsAreRefused(text: String) {
        #expect(throws: RFC3339.Error.self) { try RFC3339.parse(text) }
    }

    @Test("wall readings in a gap resolve past it; in a fold, to the first occurrence")
    func wallReadingsResolve() throws {
        let newYork = try ZoneRules(identifier: "America/New_York")
        let gap = WallTime(year: 2027, month: 3, day: 14, hour: 2, minute: 30).secondsSinceEpoch
        #expect(RFC3339.format(newYork.instant(forWall: gap), in: newYork) == "2027-03-14T03:00:00-04:00")
        let fold = WallTime(year: 2027, month: 11, day: 7, hour: 1, minute: 30).secondsSinceEpoch
        #expect(RFC3339.format(newYork.instant(forWall: fold), in: newYork) == "2027-11-07T01:30:00-04:00")
    }

    @Test("unknown zones are refused, and POSIX-style offsets that mean the opposite of the tz names", arguments: [
        "Mars/Base", "", "utc", "../../etc/passwd", "GMT+5", "GMT-3", "UTC+1",
    ])
    func unknownZones(name: String) {
        #expect(throws: ZoneRules.Error.unknownZone(name)) { try ZoneRules(identifier: name) }
    }

    @Test("tz database names are accepted, Etc/GMT+5 as five hours behind UTC", arguments: ["UTC", "Etc/GMT+5", "Etc/UTC", "Europe/Berlin", "GMT"])
    func tzNames(name: String) throws {
        let zone = try ZoneRules(identifier: name)
        if name == "Etc/GMT+5" { #expect(zone.offsets.last.map(Int.init) == -18_000) }
    }
}

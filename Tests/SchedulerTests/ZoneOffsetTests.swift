@testable import Scheduler
import Testing

/// One row: the UTC offset a zone has at an instant (expected values from glibc's zdump).
struct ZoneOffsetRow: CustomTestStringConvertible, Sendable {
    let zone: String, at: String, offset: Int
    init(_ zone: String, _ at: String, _ offset: Int) { (self.zone, self.at, self.offset) = (zone, at, offset) }
    var testDescription: String { "\(zone) at \(at)" }
}

@Suite("Zone offsets read from tzdata TZif files")
struct ZoneOffsetTests {
    static let rows: [ZoneOffsetRow] = [
        // Berlin: LMT before 1893, EU rules from the transitions, then from the footer rule.
        .init("Europe/Berlin", "1850-01-01T00:00:00Z", 3208),
        .init("Europe/Berlin", "1893-03-31T23:06:31Z", 3208),
        .init("Europe/Berlin", "1893-03-31T23:06:32Z", 3600),
        .init("Europe/Berlin", "2026-03-29T00:59:59Z", 3600),
        .init("Europe/Berlin", "2026-03-29T01:00:00Z", 7200),
        .init("Europe/Berlin", "2026-10-25T00:59:59Z", 7200),
        .init("Europe/Berlin", "2026-10-25T01:00:00Z", 3600),
        .init("Europe/Berlin", "2400-03-26T00:59:59Z", 3600),
        .init("Europe/Berlin", "2400-03-26T01:00:00Z", 7200),
        .init("Europe/Berlin", "2499-07-01T00:00:00Z", 7200),
        // New York: LMT before 1883, US rules since 2007, footer EST5EDT,M3.2.0,M11.1.0.
        .init("America/New_York", "1883-11-18T16:59:59Z", -17762),
        .init("America/New_York", "1883-11-18T17:00:00Z", -18000),
        .init("America/New_York", "2027-03-14T06:59:59Z", -18000),
        .init("America/New_York", "2027-03-14T07:00:00Z", -14400),
        .init("America/New_York", "2027-11-07T05:59:59Z", -14400),
        .init("America/New_York", "2027-11-07T06:00:00Z", -18000),
        .init("America/New_York", "2400-03-12T07:00:00Z", -14400),
        // Lord Howe: 30-minute DST, southern hemisphere, so the footer rule ends DST first each year.
        .init("Australia/Lord_Howe", "1985-10-26T15:30:00Z", 39600),
        .init("Australia/Lord_Howe", "1986-03-15T15:00:00Z", 37800),
        .init("Australia/Lord_Howe", "2026-07-01T00:00:00Z", 37800),
        .init("Australia/Lord_Howe", "2026-12-01T00:00:00Z", 39600),
        .init("Australia/Lord_Howe", "2399-04-03T14:59:59Z", 39600),
        .init("Australia/Lord_Howe", "2399-04-03T15:00:00Z", 37800),
        // Kathmandu: +05:30 until 1986, +05:45 since.
        .init("Asia/Kathmandu", "1985-12-31T18:29:59Z", 19800),
        .init("Asia/Kathmandu", "1985-12-31T18:30:00Z", 20700),
        .init("Asia/Kathmandu", "2400-01-01T00:00:00Z", 20700),
        // Casablanca: +01 but +00 during Ramadan, listed year by year in the file.
        .init("Africa/Casablanca", "2026-02-15T01:59:59Z", 3600),
        .init("Africa/Casablanca", "2026-02-15T02:00:00Z", 0),
        .init("Africa/Casablanca", "2026-03-22T01:59:59Z", 0),
        .init("Africa/Casablanca", "2026-03-22T02:00:00Z", 3600),
        // Fixed offsets: Etc/GMT+5 is five hours behind UTC; UTC needs no file.
        .init("Etc/GMT+5", "2026-01-01T00:00:00Z", -18000),
        .init("UTC", "1850-01-01T00:00:00Z", 0),
    ]

    @Test("offsets match zdump at transitions, before 1900 and in the footer's far future", arguments: rows)
    func offsets(row: ZoneOffsetRow) throws {
        let zone = try ZoneRules(identifier: row.zone)
        guard case .instant(let instant) = try RFC3339.parse(row.at) else { Issue.record("not an instant"); return }
        #expect(zone.offset(at: instant) == row.offset)
    }

    @Test("tables start at the beginning of time, merge equal offsets and stop at 2500", arguments: [
        "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Africa/Casablanca",
    ])
    func tableShape(name: String) throws {
        let zone = try ZoneRules(identifier: name)
        #expect(zone.starts.first == .min)
        #expect(zip(zone.starts, zone.starts.dropFirst()).allSatisfy { $0 < $1 })
        #expect(zip(zone.offsets, zone.offsets.dropFirst()).allSatisfy { $0 != $1 })
        #expect(zone.starts.last.map { $0 < ZoneRules.tableEnd } == true)
    }
}

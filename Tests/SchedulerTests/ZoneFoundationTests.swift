import Foundation
@testable import Scheduler
import Testing

@Suite("Zone tables agree with Foundation")
struct ZoneFoundationTests {
    static let from: Int64 = 0                  // 1970-01-01
    static let until: Int64 = 2_145_916_800     // 2038-01-01
    /// Since tz 2024b these are links (to Europe/Athens and Europe/Lisbon) in ICU's data, which Foundation
    /// reads; Debian's tzdata still builds them as zones of their own, with other 1970s-1990s rules.
    static let builtDifferently: Set<String> = ["EET", "WET"]

    /// Zones of tzdata.zi (`Z name ...` lines) and zone1970.tab (third column).
    static func zoneNames() throws -> [String] {
        var names = Set<String>()
        let zi = try String(contentsOfFile: "/usr/share/zoneinfo/tzdata.zi", encoding: .utf8)
        for line in zi.split(separator: "\n") where line.hasPrefix("Z ") {
            names.insert(String(line.split(separator: " ")[1]))
        }
        let tab = try String(contentsOfFile: "/usr/share/zoneinfo/zone1970.tab", encoding: .utf8)
        for line in tab.split(separator: "\n") where !line.hasPrefix("#") {
            let columns = line.split(separator: "\t")
            if columns.count >= 3 { names.insert(String(columns[2])) }
        }
        return names.sorted()
    }

    @Test("every tzdata zone has Foundation's offsets at and around each transition from 1970 to 2037")
    func everyZone() throws {
        let names = try Self.zoneNames()
        #expect(names.count > 300)
        var mismatches: [String] = []
        for name in names where !Self.builtDifferently.contains(name) {
            let rules = try ZoneRules(identifier: name)
            guard let zone = TimeZone(identifier: name) else {
                mismatches.append("\(name): unknown to Foundation")
                continue
            }
            for instant in Self.probes(rules, zone) {
                let expected = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
                if rules.offset(at: instant) != expected {
                    mismatches.append("\(name) at \(RFC3339.format(instant, in: .utc)): \(rules.offset(at: instant)), Foundation \(expected)")
                }
            }
        }
        #expect(mismatches == [], "\(mismatches.count) mismatches: \(mismatches.prefix(20).joined(separator: "\n"))")
    }

    /// Instants either side of every transition of both tables in range, and midway between them.
    static func probes(_ rules: ZoneRules, _ zone: TimeZone) -> [Int64] {
        var transitions = rules.starts.filter { $0 > from && $0 < until }
        var cursor = Date(timeIntervalSince1970: Double(from))
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < Double(until) {
            transitions.append(Int64(next.timeIntervalSince1970.rounded()))
            cursor = next
        }
        transitions = Array(Set(transitions + [from, until - 1])).sorted()
        return transitions.flatMap { [$0 - 1, $0] } + zip(transitions, transitions.dropFirst()).map { ($0 + $1) / 2 }
    }
}

import Foundation
import Synchronization

/// A time zone as a table of UTC-offset periods, read once from the system's zone data so that
/// next-fire search never asks Foundation per candidate.
public struct ZoneRules: Sendable, Hashable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case unknownZone(String)
        public var description: String {
            switch self {
            case .unknownZone(let name):
                "unknown time zone \"\(name)\" (expected an IANA name such as Europe/Berlin, UTC or Etc/GMT+5; "
                    + "POSIX-style GMT+5 is not accepted: it means the opposite of Etc/GMT+5)"
            }
        }
    }

    /// One shared table per zone: a schedule holds a single reference (100,000 schedules in one zone
    /// share it).
    private final class Table: Sendable {
        let identifier: String
        let starts: [Int64]
        let offsets: [Int32]
        init(identifier: String, starts: [Int64], offsets: [Int32]) {
            (self.identifier, self.starts, self.offsets) = (identifier, starts, offsets)
        }
    }

    private let table: Table
    public var identifier: String { table.identifier }
    /// Instants (seconds since 1970 UTC) at which each period starts; the first is Int64.min.
    var starts: [Int64] { table.starts }
    /// UTC offset in seconds in force during each period.
    var offsets: [Int32] { table.offsets }

    public static func == (a: ZoneRules, b: ZoneRules) -> Bool {
        a.table === b.table || (a.identifier == b.identifier && a.starts == b.starts && a.offsets == b.offsets)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }

    /// Transitions are tabulated up to this instant (2500-01-01); after it the last offset holds.
    static let tableEnd: Int64 = 16_725_225_600
    static let tableStart: Int64 = -2_208_988_800    // 1900-01-01

    public static let utc = ZoneRules(identifier: "UTC", starts: [.min], offsets: [0])

    init(identifier: String, starts: [Int64], offsets: [Int32]) {
        table = Table(identifier: identifier, starts: starts, offsets: offsets)
    }

    /// Loads the zone named by an IANA identifier (case-sensitive, as in the tz database).
    public init(identifier: String) throws(Error) {
        guard Self.isIANAName(identifier), let zone = TimeZone(identifier: identifier) else { throw .unknownZone(identifier) }
        var starts: [Int64] = [.min]
        var offsets: [Int32] = [Int32(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(Self.tableStart))))]
        var cursor = Date(timeIntervalSince1970: Double(Self.tableStart))
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor),
              next.timeIntervalSince1970 < Double(Self.tableEnd) {
            let offset = Int32(zone.secondsFromGMT(for: next))
            if offset != offsets.last {
                starts.append(Int64(next.timeIntervalSince1970.rounded()))
                offsets.append(offset)
            }
            cursor = next
        }
        self.init(identifier: identifier, starts: starts, offsets: offsets)
    }

    /// A name of the tz database: one Foundation lists, or a zone file of the system's tzdata. Foundation
    /// alone also takes offsets such as `GMT+5` (+05:00, where the tz name Etc/GMT+5 is -05:00).
    static func isIANAName(_ identifier: String) -> Bool {
        guard !identifier.isEmpty, !identifier.hasPrefix("/"), !identifier.split(separator: "/").contains("..") else { return false }
        if identifier == "UTC" || knownNames.contains(identifier) { return true }
        var info = stat()
        return stat("/usr/share/zoneinfo/" + identifier, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    private static let knownNames = Set(TimeZone.knownTimeZoneIdentifiers)

    /// The rules of a zone, built once per process: schedules share them (each table spans 600 years).
    public static func named(_ identifier: String) throws(Error) -> ZoneRules {
        if let known = cache.withLock({ $0[identifier] }) { return known }
        let rules = try ZoneRules(identifier: identifier)
        cache.withLock { $0[identifier] = rules }
        return rules
    }

    private static let cache = Mutex<[String: ZoneRules]>([:])

    /// The zone the host runs in, by its IANA name.
    public static func host() -> ZoneRules {
        (try? named(TimeZone.current.identifier)) ?? .utc
    }

    // MARK: periods

    /// Index of the period containing `instant`.
    func period(containing instant: Int64) -> Int {
        var low = 0, high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= instant { low = mid } else { high = mid - 1 }
        }
        return low
    }

    func end(ofPeriod index: Int) -> Int64 { index + 1 < starts.count ? starts[index + 1] : .max }

    /// UTC offset in seconds at `instant`.
    public func offset(at instant: Int64) -> Int { Int(offsets[period(containing: instant)]) }

    /// The instant a wall reading denotes: in a gap, the first instant after the gap; in a fold, the first occurrence.
    public func instant(forWall wall: Int64) -> Int64 {
        for index in offsets.indices.dropLast() {
            let candidate = wall - Int64(offsets[index])
            if candidate < starts[index] { return starts[index] }
            if candidate < end(ofPeriod: index) { return candidate }
        }
        return max(wall - Int64(offsets[offsets.count - 1]), starts[starts.count - 1])
    }
}

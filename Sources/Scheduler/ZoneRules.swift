import Synchronization

/// A time zone as a table of UTC-offset periods, read once from the system's tzdata (TZif files, see
/// `ZoneSource`) so that next-fire search is a binary search, and static binaries carry no ICU.
public struct ZoneRules: Sendable, Hashable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case unknownZone(String)
        /// The zone file exists but cannot be read or decoded (truncated, corrupt, not TZif).
        case unreadableZone(String, path: String, reason: String)

        public var description: String {
            switch self {
            case .unknownZone(let name):
                // Names that are never looked up (GMT+5, ../x) name no file.
                "unknown time zone \"\(name)\" ("
                    + (ZoneSource.isZoneName(name) ? "no zone file \(ZoneSource.path(of: name)); " : "")
                    + "expected an IANA name such as Europe/Berlin, UTC or Etc/GMT+5; "
                    + "POSIX-style GMT+5 is not accepted: it means the opposite of Etc/GMT+5)"
            case .unreadableZone(let name, let path, let reason):
                "time zone \"\(name)\": cannot use \(path): \(reason)"
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
    /// A footer rule of a file without transitions is tabulated from this instant's year (1900).
    static let tableStart: Int64 = -2_208_988_800

    public static let utc = ZoneRules(identifier: "UTC", starts: [.min], offsets: [0])

    init(identifier: String, starts: [Int64], offsets: [Int32]) {
        table = Table(identifier: identifier, starts: starts, offsets: offsets)
    }

    /// Loads the zone named by an IANA identifier (case-sensitive, as in the tz database) from its TZif
    /// file; `UTC` needs no file, so it works on hosts without tzdata.
    public init(identifier: String) throws(Error) {
        try self.init(identifier: identifier, directory: ZoneSource.directory())
    }

    /// Loads a zone from the tzdata in `directory` (tests read copies of zone files).
    init(identifier: String, directory: String) throws(Error) {
        if identifier == Self.utc.identifier {
            self = .utc
            return
        }
        let tzif = try ZoneSource.load(identifier, from: directory)
        let firstRuleYear = WallTime(secondsSinceEpoch: Self.tableStart).year
        do {
            let table = try ZoneTable(tzif, until: Self.tableEnd, rulesFrom: firstRuleYear)
            self.init(identifier: identifier, starts: table.starts, offsets: table.offsets)
        } catch {
            throw .unreadableZone(identifier, path: ZoneSource.path(of: identifier, in: directory), reason: error.description)
        }
    }

    /// The rules of a zone, built once per process: schedules share them (each table spans history up to 2500).
    public static func named(_ identifier: String) throws(Error) -> ZoneRules {
        if let known = cache.withLock({ $0[identifier] }) { return known }
        let rules = try ZoneRules(identifier: identifier)
        cache.withLock { $0[identifier] = rules }
        return rules
    }

    private static let cache = Mutex<[String: ZoneRules]>([:])

    /// The zone the host runs in: the first of `ZoneSource.hostZoneNames()` that loads, else UTC.
    public static func host() -> ZoneRules {
        for name in ZoneSource.hostZoneNames() {
            if let rules = try? named(name) { return rules }
        }
        return .utc
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

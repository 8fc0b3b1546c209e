/// Where zone data comes from: the TZif files of the system's tzdata, in `$TZDIR` or /usr/share/zoneinfo.
enum ZoneSource {
    static let defaultDirectory = "/usr/share/zoneinfo"
    /// Zone files are a few kilobytes; anything far larger is not one.
    static let fileLimit = 1 << 20

    /// The tzdata directory searched: `$TZDIR` when set and not empty, as in glibc.
    static func directory(environment: (String) -> String? = SystemCalls.environment) -> String {
        guard var directory = environment("TZDIR"), !directory.isEmpty else { return defaultDirectory }
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        return directory
    }

    static func path(of identifier: String, in directory: String = directory()) -> String { directory + "/" + identifier }

    /// A name that may denote a zone file: relative, components of [A-Za-z0-9_+-] (so no `..` and no
    /// tzdata.zi or other data files), and not POSIX-style `GMT+5`, which POSIX reads as +05:00 where
    /// the tz name Etc/GMT+5 is -05:00.
    static func isZoneName(_ identifier: String) -> Bool {
        let components = identifier.split(separator: "/", omittingEmptySubsequences: false)
        guard !identifier.isEmpty, components.allSatisfy({ !$0.isEmpty }) else { return false }
        guard identifier.utf8.allSatisfy({ isNameByte($0) }) else { return false }
        return !["GMT+", "GMT-", "UTC+", "UTC-", "UT+", "UT-"].contains { identifier.hasPrefix($0) }
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: [UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(byte)
        }
    }

    /// The decoded zone file of `identifier` in `directory`.
    static func load(_ identifier: String, from directory: String) throws(ZoneRules.Error) -> TZif {
        guard isZoneName(identifier) else { throw .unknownZone(identifier) }
        let path = path(of: identifier, in: directory)
        let bytes: [UInt8]
        do {
            bytes = try SystemCalls.readFile(atPath: path, limit: fileLimit)
        } catch {
            switch error {
            case .missing: throw .unknownZone(identifier)
            case .tooLarge(let limit): throw .unreadableZone(identifier, path: path, reason: "larger than \(limit) bytes, not a zone file")
            case .failed(let call, _, let message): throw .unreadableZone(identifier, path: path, reason: "\(call): \(message)")
            }
        }
        do {
            return try TZifReader.read(bytes)
        } catch {
            throw .unreadableZone(identifier, path: path, reason: error.description)
        }
    }

    /// Names of the host's zone, most explicit first: `$TZ` (`Europe/Berlin`, `:Europe/Berlin` or a
    /// path into zoneinfo), /etc/timezone (Debian), then the target of the /etc/localtime link.
    static func hostZoneNames() -> [String] {
        var names: [String] = []
        if let tz = SystemCalls.environment("TZ") { names.append(zoneName(ofTZ: tz)) }
        if let bytes = try? SystemCalls.readFile(atPath: "/etc/timezone", limit: 4096),
           let line = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace).first {
            names.append(String(line))
        }
        if let target = SystemCalls.linkTarget("/etc/localtime"), let name = afterZoneinfo(target) {
            names.append(name)
        }
        return names.filter(isZoneName)
    }

    /// The zone a `$TZ` value names, if it names one (a POSIX rule such as `CET-1CEST,...` fails `isZoneName`).
    static func zoneName(ofTZ tz: String) -> String {
        let name = tz.hasPrefix(":") ? String(tz.dropFirst()) : tz
        return afterZoneinfo(name) ?? name
    }

    /// `Europe/Berlin` of `/usr/share/zoneinfo/Europe/Berlin` or `../usr/share/zoneinfo/Europe/Berlin`.
    static func afterZoneinfo(_ path: String) -> String? {
        let marker = Array("zoneinfo/".utf8)
        let bytes = Array(path.utf8)
        guard bytes.count > marker.count else { return nil }
        let start = (0...(bytes.count - marker.count)).last { bytes[$0...].starts(with: marker) }
        return start.map { String(decoding: bytes[($0 + marker.count)...], as: UTF8.self) }
    }
}

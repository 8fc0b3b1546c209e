import Foundation
@testable import Scheduler
import Testing

@Suite("Zone files: names, TZDIR and damaged files")
struct ZoneSourceTests {
    @Test("zone names are relative paths of [A-Za-z0-9_+-], and never POSIX-style offsets", arguments: [
        ("Europe/Berlin", true), ("America/Argentina/Buenos_Aires", true), ("Etc/GMT+5", true), ("Etc/GMT-14", true),
        ("EST5EDT", true), ("", false), ("/etc/passwd", false), ("../etc/passwd", false), ("Europe/../../x", false),
        ("Europe//Berlin", false), ("Europe/", false), ("tzdata.zi", false), ("GMT+5", false), ("UTC-3", false),
        ("UT+1", false), ("Europe/Berlin ", false), ("Europe/Zürich", false),
    ])
    func names(name: String, valid: Bool) {
        #expect(ZoneSource.isZoneName(name) == valid)
    }

    @Test("the tzdata directory is $TZDIR when set and not empty", arguments: [
        ("/tmp/zones", "/tmp/zones"), ("/tmp/zones//", "/tmp/zones"), ("", "/usr/share/zoneinfo"), (nil, "/usr/share/zoneinfo"),
    ])
    func directory(tzdir: String?, expected: String) {
        #expect(ZoneSource.directory(environment: { $0 == "TZDIR" ? tzdir : nil }) == expected)
    }

    @Test("a zone is read from the directory given, as for TZDIR")
    func copiedZoneFile() throws {
        let directory = try TemporaryZoneDirectory()
        try directory.write("Test/Berlin", try Data(contentsOf: URL(fileURLWithPath: "/usr/share/zoneinfo/Europe/Berlin")))
        let copy = try ZoneRules(identifier: "Test/Berlin", directory: directory.path)
        let system = try ZoneRules(identifier: "Europe/Berlin")
        #expect(copy.identifier == "Test/Berlin")
        #expect((copy.starts, copy.offsets) == (system.starts, system.offsets))
        #expect(throws: ZoneRules.Error.unknownZone("Europe/Berlin")) {
            try ZoneRules(identifier: "Europe/Berlin", directory: directory.path)
        }
    }

    @Test("a FIFO where a zone file belongs is no zone, and reading it never blocks")
    func fifoIsNoZone() throws {
        let directory = try TemporaryZoneDirectory()
        try directory.write("Test/Berlin", Data())
        let fifo = directory.path + "/Test/Pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: ZoneRules.Error.unknownZone("Test/Pipe")) { try ZoneRules(identifier: "Test/Pipe", directory: directory.path) }
    }

    @Test("an unknown zone's error names the file looked for; a refused name names none")
    func unknownZoneMessages() {
        let path = ZoneSource.path(of: "Mars/Base")
        #expect("\(ZoneRules.Error.unknownZone("Mars/Base"))".contains("no zone file \(path);"))
        #expect(!"\(ZoneRules.Error.unknownZone("GMT+5"))".contains("no zone file"))
        #expect(throws: ZoneRules.Error.unknownZone("Europe")) { try ZoneRules(identifier: "Europe") }
    }

    @Test("every truncation of a zone file is an error, never a crash")
    func truncatedFiles() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/usr/share/zoneinfo/Europe/Berlin")))
        for length in 0..<bytes.count {
            #expect(throws: TZifError.self) { try TZifReader.read(Array(bytes[..<length])) }
        }
    }

    @Test("damaged files say what is wrong", arguments: [
        DamagedFile("a text file", Array("# tzdata text\n".utf8), .notTZif),
        DamagedFile("a type index past the types", TZifBytes(transitions: [(100, 3)]).encoded,
                    .badTypeIndex(transition: 0, index: 3, typeCount: 2)),
        DamagedFile("two transitions at one instant", TZifBytes(transitions: [(100, 1), (100, 0)]).encoded,
                    .unsortedTransitions(index: 1)),
        DamagedFile("an offset over 26 hours", TZifBytes(offsets: [0, 100_000]).encoded, .badOffset(type: 1, seconds: 100_000)),
        DamagedFile("DST without dates", TZifBytes(footer: "CET-1CEST").encoded, .badRule("CET-1CEST", .missingDates)),
        DamagedFile("no final newline", Array(TZifBytes().encoded.dropLast()), .badFooter("no newline after the TZ string")),
    ])
    func damagedFiles(file: DamagedFile) {
        #expect(throws: file.error) { try ZoneTable(try TZifReader.read(file.bytes), until: ZoneRules.tableEnd, rulesFrom: 1900) }
    }

    @Test("a damaged zone file is refused with its path and the reason")
    func damagedZoneFile() throws {
        let directory = try TemporaryZoneDirectory()
        try directory.write("Test/Short", Data(Array(TZifBytes().encoded.prefix(70))))
        let path = directory.path + "/Test/Short"
        let reason = "truncated TZif file: the 64-bit header needs 20 bytes, 10 remain"
        #expect(throws: ZoneRules.Error.unreadableZone("Test/Short", path: path, reason: reason)) {
            try ZoneRules(identifier: "Test/Short", directory: directory.path)
        }
    }

    @Test("version 1 files are read from their 32-bit block")
    func versionOne() throws {
        let tzif = try TZifReader.read(TZifBytes(version: 1, transitions: [(-100, 1), (100, 0)]).encoded)
        #expect(tzif == TZif(version: 1, transitions: [.init(at: -100, type: 1), .init(at: 100, type: 0)],
                             typeOffsets: [0, 3600], footer: nil))
    }

    @Test("host zone names are taken after zoneinfo/ in a link target", arguments: [
        ("/usr/share/zoneinfo/Europe/Berlin", "Europe/Berlin"), ("../usr/share/zoneinfo/Etc/UTC", "Etc/UTC"),
        ("/usr/share/zoneinfo/posix/zoneinfo/Asia/Tokyo", "Asia/Tokyo"), ("/etc/zone", nil),
    ])
    func linkTargets(target: String, expected: String?) {
        #expect(ZoneSource.afterZoneinfo(target) == expected)
    }

    @Test("$TZ names a zone with or without a colon, or by a path into zoneinfo; a POSIX rule names none", arguments: [
        (":Europe/Berlin", true), ("Europe/Berlin", true), (":/usr/share/zoneinfo/Europe/Berlin", true),
        ("CET-1CEST,M3.5.0,M10.5.0/3", false),
    ])
    func tzVariable(tz: String, namesBerlin: Bool) {
        let name = ZoneSource.zoneName(ofTZ: tz)
        #expect((name == "Europe/Berlin") == namesBerlin)
        #expect(ZoneSource.isZoneName(name) == namesBerlin)
    }
}

struct DamagedFile: CustomTestStringConvertible, Sendable {
    let name: String, bytes: [UInt8], error: TZifError
    init(_ name: String, _ bytes: [UInt8], _ error: TZifError) { (self.name, self.bytes, self.error) = (name, bytes, error) }
    var testDescription: String { name }
}

/// A small TZif file (version 2 unless told) with two local time types, +00:00 and +01:00 by default.
struct TZifBytes {
    var version = 2
    var transitions: [(Int64, UInt8)] = []
    var offsets: [Int32] = [0, 3600]
    var footer = "<+00>0"

    var encoded: [UInt8] {
        var bytes = block(timeSize: 4)
        if version >= 2 { bytes += block(timeSize: 8) + Array("\n\(footer)\n".utf8) }
        return bytes
    }

    private func block(timeSize: Int) -> [UInt8] {
        var bytes = Array("TZif".utf8) + [version == 1 ? 0 : UInt8(ascii: "0") + UInt8(version)] + Array(repeating: 0, count: 15)
        for count in [0, 0, 0, transitions.count, offsets.count, 4] { bytes += bigEndian(Int64(count), size: 4) }
        for (time, _) in transitions { bytes += bigEndian(time, size: timeSize) }
        bytes += transitions.map(\.1)
        for offset in offsets { bytes += bigEndian(Int64(offset), size: 4) + [0, 0] }
        return bytes + Array("LMT\0".utf8)
    }

    private func bigEndian(_ value: Int64, size: Int) -> [UInt8] {
        (0..<size).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}

/// A directory under /tmp for copies of zone files, removed when the value goes away.
final class TemporaryZoneDirectory {
    let path = NSTemporaryDirectory() + "slothd-zones-" + UUID().uuidString

    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ data: Data) throws {
        let url = URL(fileURLWithPath: path + "/" + name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }
}

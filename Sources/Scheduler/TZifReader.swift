/// Decodes the bytes of a TZif file (RFC 8536, versions 1 to 4). Version 2 and later files are read
/// from their 64-bit data block, which spans all of time where the 32-bit one stops at 1901 and 2038.
enum TZifReader {
    /// Counts of a header, in file order.
    private struct Header {
        var version: Int
        var isUTCount, isStandardCount, leapCount, timeCount, typeCount, charCount: Int

        /// Bytes of the data block that follows, with transition times of `timeSize` bytes.
        func dataSize(timeSize: Int) -> Int {
            timeCount * (timeSize + 1) + typeCount * 6 + charCount + leapCount * (timeSize + 4)
                + isStandardCount + isUTCount
        }
    }

    static func read(_ bytes: [UInt8]) throws(TZifError) -> TZif {
        var cursor = ByteCursor(bytes: bytes[...])
        let first = try header(&cursor, "header")
        guard first.version >= 2 else { return try block(&cursor, first, timeSize: 4, footer: nil) }
        _ = try cursor.take(first.dataSize(timeSize: 4), for: "version 1 data block")
        let second = try header(&cursor, "64-bit header")
        var rest = cursor
        _ = try rest.take(second.dataSize(timeSize: 8), for: "64-bit data block")
        return try block(&cursor, second, timeSize: 8, footer: try footer(rest.remaining))
    }

    private static func header(_ cursor: inout ByteCursor, _ section: String) throws(TZifError) -> Header {
        // Fewer than four bytes may be a truncated magic: that is reported as truncation.
        guard cursor.remaining.count < 4 || cursor.remaining.starts(with: Array("TZif".utf8)) else { throw .notTZif }
        let fixed = try cursor.take(20, for: section)
        let versionByte = fixed[fixed.startIndex + 4]
        let version = versionByte == 0 ? 1 : Int(versionByte) - Int(UInt8(ascii: "0"))
        guard (1...9).contains(version) else { throw .badCount(field: "version", value: Int(versionByte)) }
        var counts: [Int] = []
        for field in ["isutcnt", "isstdcnt", "leapcnt", "timecnt", "typecnt", "charcnt"] {
            let value = Int(try cursor.uint32(for: section))
            guard value < 1 << 20 else { throw .badCount(field: field, value: value) }
            counts.append(value)
        }
        let header = Header(version: version, isUTCount: counts[0], isStandardCount: counts[1], leapCount: counts[2],
                            timeCount: counts[3], typeCount: counts[4], charCount: counts[5])
        guard header.typeCount > 0 else { throw .badCount(field: "typecnt", value: 0) }
        guard header.charCount > 0 else { throw .badCount(field: "charcnt", value: 0) }
        guard [0, header.typeCount].contains(header.isUTCount) else { throw .badCount(field: "isutcnt", value: header.isUTCount) }
        guard [0, header.typeCount].contains(header.isStandardCount) else {
            throw .badCount(field: "isstdcnt", value: header.isStandardCount)
        }
        return header
    }

    /// Transitions and local time types of a data block; leap seconds and the indicators are not needed
    /// (tzdata's default zone files have no leap seconds, and offsets already include them).
    private static func block(_ cursor: inout ByteCursor, _ header: Header, timeSize: Int,
                              footer: String?) throws(TZifError) -> TZif {
        var times: [Int64] = []
        for index in 0..<header.timeCount {
            let time = timeSize == 8 ? try cursor.int64(for: "transition times") : Int64(try cursor.int32(for: "transition times"))
            guard index == 0 || time > times[index - 1] else { throw .unsortedTransitions(index: index) }
            times.append(time)
        }
        let indices = try cursor.take(header.timeCount, for: "transition types")
        var offsets: [Int32] = []
        for type in 0..<header.typeCount {
            let offset = try cursor.int32(for: "local time types")
            _ = try cursor.take(2, for: "local time types")    // isdst and desigidx
            // RFC 8536 bounds offsets to (-25 h, +26 h); it keeps wall-clock arithmetic far from overflow.
            guard (-89_999...93_599).contains(offset) else { throw .badOffset(type: type, seconds: offset) }
            offsets.append(offset)
        }
        var transitions: [TZif.Transition] = []
        for (index, (time, type)) in zip(times, indices).enumerated() {
            guard Int(type) < header.typeCount else {
                throw .badTypeIndex(transition: index, index: Int(type), typeCount: header.typeCount)
            }
            transitions.append(TZif.Transition(at: time, type: Int(type)))
        }
        return TZif(version: header.version, transitions: transitions, typeOffsets: offsets, footer: footer)
    }

    /// The TZ string between the two newlines that end a version 2+ file; nil when empty.
    private static func footer(_ bytes: ArraySlice<UInt8>) throws(TZifError) -> String? {
        let newline = UInt8(ascii: "\n")
        guard bytes.first == newline else { throw .badFooter("no newline after the 64-bit data block") }
        guard let end = bytes.dropFirst().firstIndex(of: newline) else { throw .badFooter("no newline after the TZ string") }
        let text = bytes[(bytes.startIndex + 1)..<end]
        guard text.allSatisfy({ (0x20..<0x7F).contains($0) }) else { throw .badFooter("the TZ string is not printable ASCII") }
        return text.isEmpty ? nil : String(decoding: text, as: UTF8.self)
    }
}

/// Big-endian reads that throw `truncated` instead of trapping past the end.
private struct ByteCursor {
    var remaining: ArraySlice<UInt8>

    init(bytes: ArraySlice<UInt8>) { remaining = bytes }

    mutating func take(_ count: Int, for section: String) throws(TZifError) -> ArraySlice<UInt8> {
        guard count <= remaining.count else { throw .truncated(section: section, needed: count, available: remaining.count) }
        defer { remaining = remaining.dropFirst(count) }
        return remaining.prefix(count)
    }

    mutating func uint32(for section: String) throws(TZifError) -> UInt32 {
        try take(4, for: section).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func int32(for section: String) throws(TZifError) -> Int32 { Int32(bitPattern: try uint32(for: section)) }

    mutating func int64(for section: String) throws(TZifError) -> Int64 {
        Int64(bitPattern: try take(8, for: section).reduce(0) { $0 << 8 | UInt64($1) })
    }
}

/// Why a POSIX TZ string does not parse; columns are 1-based.
enum PosixRuleError: Error, Equatable, CustomStringConvertible {
    case badName(column: Int)
    case expected(String, column: Int)
    case outOfRange(String, value: Int, column: Int)
    /// A DST name without `,start,end`: POSIX leaves the dates to the implementation; zic always writes them.
    case missingDates

    var description: String {
        switch self {
        case .badName(let column): "column \(column): a zone abbreviation is 3 or more letters, or <+0330> quoted"
        case .expected(let what, let column): "column \(column): expected \(what)"
        case .outOfRange(let what, let value, let column): "column \(column): \(what) \(value) is out of range"
        case .missingDates: "DST is named but has no ,start,end dates"
        }
    }
}

/// Parses `std offset [dst [offset] ,start[/time],end[/time]]` into a `PosixZoneRule`.
struct PosixRuleScanner {
    private let bytes: [UInt8]
    private var index = 0

    static func parse(_ text: String) throws(PosixRuleError) -> PosixZoneRule {
        var scanner = PosixRuleScanner(bytes: Array(text.utf8))
        return try scanner.rule()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private var column: Int { index + 1 }
    private var atEnd: Bool { index == bytes.count }

    private mutating func rule() throws(PosixRuleError) -> PosixZoneRule {
        try name()
        // The string's offsets are hours west of UTC; tables count east.
        let standard = -(try offset(maxHours: 24))
        guard !atEnd else { return PosixZoneRule(standardOffset: Int32(standard), daylight: nil) }
        try name()
        let daylight = atEnd || peek(",") ? standard + 3600 : -(try offset(maxHours: 24))
        guard skip(",") else { throw atEnd ? .missingDates : .expected("\",\" before the DST start date", column: column) }
        let start = try change()
        guard skip(",") else { throw .expected("\",\" before the DST end date", column: column) }
        let end = try change()
        guard atEnd else { throw .expected("the end of the rule", column: column) }
        return PosixZoneRule(standardOffset: Int32(standard),
                             daylight: .init(utOffset: Int32(daylight), start: start, end: end))
    }

    /// `EST` or `<-03>`: the abbreviation is not needed, only skipped.
    private mutating func name() throws(PosixRuleError) {
        let begin = index
        if skip("<") {
            while !atEnd, bytes[index] != UInt8(ascii: ">") {
                guard isAlphanumeric(bytes[index]) || peek("+") || peek("-") else { throw .badName(column: column) }
                index += 1
            }
            guard index - begin - 1 >= 3, skip(">") else { throw .badName(column: begin + 1) }
        } else {
            while !atEnd, isLetter(bytes[index]) { index += 1 }
            guard index - begin >= 3 else { throw .badName(column: begin + 1) }
        }
    }

    /// `[+-]hh[:mm[:ss]]` in seconds.
    private mutating func offset(maxHours: Int) throws(PosixRuleError) -> Int {
        var sign = 1
        if skip("-") { sign = -1 } else { _ = skip("+") }
        let hourColumn = column
        let hours = try number(what: "hours")
        guard hours <= maxHours else { throw .outOfRange("hours", value: hours, column: hourColumn) }
        var seconds = hours * 3600
        for (what, scale) in [("minutes", 60), ("seconds", 1)] {
            guard skip(":") else { break }
            let partColumn = column
            let part = try number(what: what)
            guard part <= 59 else { throw .outOfRange(what, value: part, column: partColumn) }
            seconds += part * scale
        }
        return sign * seconds
    }

    /// `Jn`, `n` or `Mm.w.d`, then `/time` (02:00 when absent; version 3 allows -167 to 167 hours).
    private mutating func change() throws(PosixRuleError) -> PosixZoneRule.Change {
        let day: PosixZoneRule.Day
        if skip("J") {
            day = .julian(try bounded("Julian day", 1...365))
        } else if skip("M") {
            let month = try bounded("month", 1...12)
            guard skip(".") else { throw .expected("\".\" after the month", column: column) }
            let week = try bounded("week", 1...5)
            guard skip(".") else { throw .expected("\".\" after the week", column: column) }
            day = .monthWeekday(month: month, week: week, weekday: try bounded("weekday", 0...6))
        } else {
            day = .zeroBased(try bounded("day", 0...365))
        }
        let time = skip("/") ? try offset(maxHours: 167) : 7200
        return PosixZoneRule.Change(day: day, time: time)
    }

    private mutating func bounded(_ what: String, _ range: ClosedRange<Int>) throws(PosixRuleError) -> Int {
        let begin = column
        let value = try number(what: what)
        guard range.contains(value) else { throw .outOfRange(what, value: value, column: begin) }
        return value
    }

    /// Up to three decimal digits (no value of a TZ string needs more).
    private mutating func number(what: String) throws(PosixRuleError) -> Int {
        let begin = index
        var value = 0
        while !atEnd, index - begin < 3, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > begin else { throw .expected(what, column: column) }
        return value
    }

    private func peek(_ character: Unicode.Scalar) -> Bool { !atEnd && bytes[index] == UInt8(ascii: character) }

    private mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard peek(character) else { return false }
        index += 1
        return true
    }

    /// ASCII letters: setting bit 0x20 folds A-Z onto a-z and moves no other byte into a-z.
    private func isLetter(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte | 0x20) }
    private func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || (0x30...0x39).contains(byte) }
}

/// RFC 3339 timestamps: formatting an instant with its zone's offset, and reading either an RFC 3339
/// instant or a plain wall time (`2026-03-08T01:30`, `2026-03-08 01:30:00`, `2026-03-08`).
public enum RFC3339 {
    public enum Parsed: Equatable, Sendable {
        case instant(Int64)
        case wall(WallTime)
    }

    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public let text: String
        public var description: String {
            "invalid time \"\(text)\": expected RFC 3339 (2026-03-08T01:30:00-05:00) or a wall time (2026-03-08T01:30)"
        }
    }

    /// `2026-03-08T03:00:00-04:00`: the wall reading at `instant` with its offset.
    public static func format(_ instant: Int64, offset: Int) -> String {
        let wall = WallTime(secondsSinceEpoch: instant + Int64(offset))
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        return "\(pad(wall.year, 4))-\(pad(wall.month))-\(pad(wall.day))T\(pad(wall.hour)):\(pad(wall.minute)):\(pad(wall.second))"
            + "\(sign)\(pad(magnitude / 3600)):\(pad(magnitude / 60 % 60))"
    }

    public static func format(_ instant: Int64, in zone: ZoneRules) -> String {
        format(instant, offset: zone.offset(at: instant))
    }

    /// `2026-03-08T03:00:00.250-04:00`: with milliseconds, for log lines and run times.
    public static func format(millis: Int64, in zone: ZoneRules) -> String {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let whole = format(seconds, in: zone)
        return whole.prefix(19) + "." + pad(Int(millis - seconds * 1000), 3) + whole.dropFirst(19)
    }

    /// Milliseconds since 1970 of an RFC 3339 instant, its fraction included; nil for anything else.
    public static func millis(_ text: String) -> Int64? {
        guard case .instant(let seconds)? = try? parse(text) else { return nil }
        guard let dot = text.firstIndex(of: ".") else { return seconds * 1000 }
        let digits = text[text.index(after: dot)...].prefix(while: \.isNumber)
        return seconds * 1000 + (Int64((digits + "000").prefix(3)) ?? 0)
    }

    /// Reads a timestamp; fractions of a second are dropped.
    public static func parse(_ text: String) throws(Error) -> Parsed {
        let chars = Array(text.utf8)
        var reader = Reader(chars: chars)
        guard let year = reader.number(4), reader.skip("-"), let month = reader.number(2), reader.skip("-"),
              let day = reader.number(2), (1...12).contains(month), (1...CivilCalendar.daysIn(year: year, month: month)).contains(day)
        else { throw Error(text: text) }
        var wall = WallTime(year: year, month: month, day: day)
        if reader.atEnd { return .wall(wall) }
        guard reader.skip("T") || reader.skip("t") || reader.skip(" "),
              let hour = reader.number(2), reader.skip(":"), let minute = reader.number(2), hour < 24, minute < 60
        else { throw Error(text: text) }
        (wall.hour, wall.minute) = (hour, minute)
        if reader.skip(":") {
            guard let second = reader.number(2), second < 60 else { throw Error(text: text) }
            wall.second = second
            if reader.skip(".") { guard reader.digits() > 0 else { throw Error(text: text) } }
        }
        if reader.atEnd { return .wall(wall) }
        if (reader.skip("Z") || reader.skip("z")) && reader.atEnd { return .instant(wall.secondsSinceEpoch) }
        let sign: Int64 = reader.skip("+") ? 1 : reader.skip("-") ? -1 : 0
        guard sign != 0, let oh = reader.number(2), reader.skip(":"), let om = reader.number(2), oh < 24, om < 60, reader.atEnd
        else { throw Error(text: text) }
        return .instant(wall.secondsSinceEpoch - sign * Int64(oh * 3600 + om * 60))
    }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private struct Reader {
        let chars: [UInt8]
        var index = 0
        var atEnd: Bool { index == chars.count }

        mutating func skip(_ c: Character) -> Bool {
            guard index < chars.count, chars[index] == c.asciiValue else { return false }
            index += 1
            return true
        }

        mutating func number(_ width: Int) -> Int? {
            guard index + width <= chars.count else { return nil }
            var value = 0
            for c in chars[index..<index + width] {
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            index += width
            return value
        }

        mutating func digits() -> Int {
            let start = index
            while index < chars.count, chars[index] >= 48, chars[index] <= 57 { index += 1 }
            return index - start
        }
    }
}

import Foundation

/// How the dashboard writes durations and times for a person.
enum HumanText {
    /// `850ms`, `42s`, `3m 12s`, `2h 5m`, `3d 4h`: the two largest units.
    static func duration(millis: Int64) -> String {
        if millis < 1000 { return "\(max(millis, 0))ms" }
        let seconds = millis / 1000
        let units: [(Int64, String)] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")]
        guard let first = units.firstIndex(where: { seconds >= $0.0 }) else { return "0s" }
        let (size, name) = units[first]
        var text = "\(seconds / size)\(name)"
        if first + 1 < units.count {
            let (next, nextName) = units[first + 1]
            let rest = (seconds % size) / next
            if rest > 0 { text += " \(rest)\(nextName)" }
        }
        return text
    }

    /// "in 3m 12s" / "3m 12s ago" between two instants in milliseconds.
    static func relative(_ millis: Int64, from now: Int64) -> String {
        millis >= now ? "in " + duration(millis: millis - now) : duration(millis: now - millis) + " ago"
    }

    /// An RFC 3339 time as `2026-12-03 14:05:00 +01:00` (the zone it was written in stays visible).
    static func time(_ rfc3339: String) -> String {
        var text = rfc3339.replacingOccurrences(of: "T", with: " ")
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "+" || $0 == "-" || $0 == "Z" }) {
            text.removeSubrange(dot..<zone)
        }
        if text.hasSuffix("Z") { return String(text.dropLast()) + " UTC" }
        if text.count > 6 { text.insert(" ", at: text.index(text.endIndex, offsetBy: -6)) }
        return text
    }
}

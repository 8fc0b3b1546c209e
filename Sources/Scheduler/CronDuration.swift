/// Durations written as Go does (`90s`, `5m`, `1h30m`, `1d`): used by `@every`.
public enum CronDuration {
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]

    /// Whole seconds in `text`; at least one second and at most ten years.
    public static func seconds(parsing text: String) throws(Error) -> Int64 {
        var total: Int64 = 0
        var digits = ""
        guard !text.isEmpty else { throw Error(description: "empty duration") }
        for character in text {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if let unit = units[character] {
                guard let amount = Int64(digits), digits.count <= 9 else {
                    throw Error(description: "expected a number before '\(character)'")
                }
                total += amount * unit
                digits = ""
            } else {
                throw Error(description: "unknown unit '\(character)' (use s, m, h or d)")
            }
        }
        guard digits.isEmpty else { throw Error(description: "the number \(digits) has no unit (use s, m, h or d)") }
        guard total >= 1, total <= 10 * 366 * 86_400 else { throw Error(description: "must be between 1s and 3660d") }
        return total
    }

    /// The canonical text of a duration: largest units first, zero parts left out.
    public static func text(seconds: Int64) -> String {
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}

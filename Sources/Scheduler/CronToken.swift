/// A lexical piece of one cron field item, with its 1-based column in the whole expression.
struct CronToken: Equatable {
    enum Kind: Equatable {
        case number(Int?)       // nil when the digits overflow any field's range
        case name(String)       // ASCII letters, upper-cased
        case symbol(Character)  // one of * ? - / # , +
    }
    let kind: Kind
    let text: String
    let column: Int

    /// `* ? - / # , +` (a switch: hashing Characters in a set costs more than the rest of parsing).
    static func isSymbol(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "*", "?", "-", "/", "#", ",", "+": true
        default: false
        }
    }

    /// Splits a field's text into tokens; anything outside ASCII digits, letters and symbols is refused.
    static func tokenize(_ text: Substring, column: Int, field: CronField) throws(CronParseError) -> [CronToken] {
        var tokens: [CronToken] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let start = index
            let scalar = scalars[index]
            if isDigit(scalar) {
                while index < scalars.count, isDigit(scalars[index]) { index += 1 }
                let digits = ascii(scalars[start..<index])
                let value = digits.count <= 9 ? Int(digits) : nil
                tokens.append(CronToken(kind: .number(value), text: digits, column: column + start))
            } else if isLetter(scalar) {
                while index < scalars.count, isLetter(scalars[index]) { index += 1 }
                let word = ascii(scalars[start..<index])
                tokens.append(CronToken(kind: .name(word.uppercased()), text: word, column: column + start))
            } else if isSymbol(scalar) {
                index += 1
                tokens.append(CronToken(kind: .symbol(Character(scalar)), text: String(scalar), column: column + start))
            } else {
                throw .badField(field, column: column + start, reason: "unexpected character '\(scalar)'")
            }
        }
        return tokens
    }

    /// Digits and letters are ASCII, so their text is built from bytes.
    private static func ascii(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        String(decoding: scalars.map { UInt8(truncatingIfNeeded: $0.value) }, as: UTF8.self)
    }

    private static func isDigit(_ s: Unicode.Scalar) -> Bool { s >= "0" && s <= "9" }
    private static func isLetter(_ s: Unicode.Scalar) -> Bool { (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") }
}

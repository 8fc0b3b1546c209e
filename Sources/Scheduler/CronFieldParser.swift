/// What one field of an expression says: its plain values and, for the day fields, the special rules.
struct ParsedField {
    var values: [Bool]
    /// The field's text starts with `*` or `?` (Vixie: the day fields then combine with AND).
    var starred = false
    /// Day-of-week text starts with `+`: the day fields combine with AND.
    var andModifier = false
    var dayOfMonthRules: [DayOfMonthRule] = []
    var dayOfWeekRules: [DayOfWeekRule] = []
}

/// Parses one whitespace-delimited field: a comma-separated list of items.
struct CronFieldParser {
    let field: CronField
    private var tokens: [CronToken]
    private var position = 0
    private let endColumn: Int

    init(text: Substring, column: Int, field: CronField) throws(CronParseError) {
        self.field = field
        self.tokens = try CronToken.tokenize(text, column: column, field: field)
        self.endColumn = column + text.unicodeScalars.count
    }

    mutating func parse() throws(CronParseError) -> ParsedField {
        let bounds = field.bounds
        var result = ParsedField(values: Array(repeating: false, count: bounds.upperBound + 1))
        if field == .dayOfWeek, peek(symbol: "+") {
            position += 1
            result.andModifier = true
        }
        result.starred = peek(symbol: "*") || peek(symbol: "?")
        repeat {
            try parseItem(into: &result)
        } while try consumeSeparator()
        if field == .dayOfWeek, result.values[7] {
            result.values[0] = true
        }
        if field == .dayOfWeek { result.values[7] = false }
        return result
    }

    // MARK: items

    private mutating func parseItem(into result: inout ParsedField) throws(CronParseError) {
        guard let first = current else { throw failure(at: endColumn, "a list item is missing") }
        if case .symbol(",") = first.kind { throw failure(at: first, "a list item is missing") }
        if field == .dayOfMonth, try parseDayOfMonthRule(into: &result) { return }

        var low: Int, high: Int
        var stepDefaultsToMax = false
        if case .symbol(let s) = first.kind, s == "*" || s == "?" {
            if s == "?" && !field.isDayField {
                throw failure(at: first, "'?' is allowed only in the day-of-month and day-of-week fields")
            }
            position += 1
            low = field.bounds.lowerBound
            high = field == .dayOfWeek ? 6 : field.bounds.upperBound
        } else {
            low = try value()
            high = low
            if field == .dayOfWeek, try parseDayOfWeekRule(weekday: low % 7, into: &result) { return }
            if peek(symbol: "-") {
                position += 1
                let highToken = current
                high = try value()
                if high < low, let highToken {
                    throw failure(at: first, "range \(first.text)-\(highToken.text) is reversed: write the smaller value first")
                }
            } else {
                stepDefaultsToMax = true
            }
        }
        if peek(symbol: "/") {
            position += 1
            let step = try stepValue()
            if stepDefaultsToMax { high = field == .dayOfWeek ? 6 : field.bounds.upperBound }
            for v in stride(from: low, through: high, by: step) { result.values[v] = true }
        } else {
            for v in low...high { result.values[v] = true }
        }
    }

    /// `L`, `L-n`, `LW`, `nW`; returns false when the item is none of these.
    private mutating func parseDayOfMonthRule(into result: inout ParsedField) throws(CronParseError) -> Bool {
        guard let first = current else { return false }
        switch first.kind {
        case .name("L"):
            position += 1
            var offset = 0
            if peek(symbol: "-") {
                position += 1
                guard let token = current, case .number(let n) = token.kind else {
                    throw failure(at: current ?? first, "expected a number of days after 'L-'")
                }
                guard let n, (1...30).contains(n) else { throw failure(at: token, "L-\(token.text): the offset must be 1-30") }
                position += 1
                offset = n
            }
            result.dayOfMonthRules.append(.last(offset: offset))
        case .name("LW"):
            position += 1
            result.dayOfMonthRules.append(.lastWeekday)
        case .number:
            guard position + 1 < tokens.count, tokens[position + 1].kind == .name("W") else { return false }
            let day = try value()
            position += 1
            result.dayOfMonthRules.append(.nearestWeekday(day))
        default:
            return false
        }
        try expectItemEnd()
        return true
    }

    /// `DOW#n`, `DOW#L`, `DOWL` after the weekday value; returns false when none of these follows.
    private mutating func parseDayOfWeekRule(weekday: Int, into result: inout ParsedField) throws(CronParseError) -> Bool {
        guard let next = current else { return false }
        if next.kind == .name("L") {
            position += 1
            result.dayOfWeekRules.append(.last(weekday: weekday))
        } else if next.kind == .symbol("#") {
            position += 1
            guard let token = current else { throw failure(at: endColumn, "expected 1-5 or L after '#'") }
            switch token.kind {
            case .name("L"): result.dayOfWeekRules.append(.last(weekday: weekday))
            case .number(let n?) where (1...5).contains(n): result.dayOfWeekRules.append(.nth(weekday: weekday, n: n))
            default: throw failure(at: token, "'#\(token.text)': the occurrence must be 1-5 or L")
            }
            position += 1
        } else {
            return false
        }
        try expectItemEnd()
        return true
    }

    // MARK: pieces

    private var current: CronToken? { position < tokens.count ? tokens[position] : nil }

    private func peek(symbol: Character) -> Bool { current?.kind == .symbol(symbol) }

    private mutating func value() throws(CronParseError) -> Int {
        guard let token = current else { throw failure(at: endColumn, "expected a value") }
        let bounds = field.bounds
        let rangeText = "\(bounds.lowerBound)-\(bounds.upperBound)"
        switch token.kind {
        case .number(let n):
            guard let n, bounds.contains(n) else { throw failure(at: token, "\(token.text) is out of range \(rangeText)") }
            position += 1
            return n
        case .name(let name):
            guard let n = field.names[name] else {
                let hint = field.names.isEmpty ? "names are not allowed here" : "not a \(field.rawValue) name"
                throw failure(at: token, "unknown value '\(token.text)': \(hint)")
            }
            position += 1
            return n
        case .symbol(let s):
            if s == "+" { throw failure(at: token, "'+' is allowed only at the start of the day-of-week field") }
            throw failure(at: token, "expected a value, found '\(s)'")
        }
    }

    private mutating func stepValue() throws(CronParseError) -> Int {
        guard let token = current, case .number(let n) = token.kind else {
            throw failure(at: current.map(\.column) ?? endColumn, "a step must be a positive whole number")
        }
        guard let n, n >= 1 else { throw failure(at: token, "step \(token.text) must be at least 1") }
        position += 1
        return n
    }

    private mutating func consumeSeparator() throws(CronParseError) -> Bool {
        guard let token = current else { return false }
        guard token.kind == .symbol(",") else { throw failure(at: token, "unexpected '\(token.text)'") }
        position += 1
        return true
    }

    private func expectItemEnd() throws(CronParseError) {
        if let token = current, token.kind != .symbol(",") { throw failure(at: token, "unexpected '\(token.text)'") }
    }

    private func failure(at token: CronToken, _ reason: String) -> CronParseError {
        .badField(field, column: token.column, reason: reason)
    }

    private func failure(at column: Int, _ reason: String) -> CronParseError {
        .badField(field, column: column, reason: reason)
    }
}

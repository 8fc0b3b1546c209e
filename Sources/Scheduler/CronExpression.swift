/// A parsed cron expression: its schedule, the zone named by a `CRON_TZ=`/`TZ=` prefix, and its canonical text.
public struct CronExpression: Hashable, Sendable, CustomStringConvertible {
    public let schedule: CronSchedule
    /// The zone named in the expression's prefix, if any.
    public let zoneName: String?

    static let nicknames: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    public init(schedule: CronSchedule, zoneName: String? = nil) {
        self.schedule = schedule
        self.zoneName = zoneName
    }

    /// Parses the dialect of SPEC section 6; errors name the field, the column and the reason.
    public init(parsing text: String) throws(CronParseError) {
        var words = Self.words(of: text)
        guard let first = words.first else { throw .empty }
        var zoneName: String?
        if let prefix = ["CRON_TZ=", "TZ="].first(where: { first.text.hasPrefix($0) }) {
            let name = String(first.text.dropFirst(prefix.count))
            guard (try? ZoneRules(identifier: name)) != nil else { throw .badZone(name, column: first.column + prefix.count) }
            zoneName = name
            words.removeFirst()
            guard !words.isEmpty else { throw .empty }
        }
        self.init(schedule: try Self.schedule(of: words), zoneName: zoneName)
    }

    /// The one canonical text of this expression; parsing it gives back an equal expression.
    public var description: String {
        let prefix = zoneName.map { "CRON_TZ=\($0) " } ?? ""
        switch schedule {
        case .calendar(let spec): return prefix + spec.description
        case .every(let seconds): return prefix + "@every " + CronDuration.text(seconds: seconds)
        case .reboot: return prefix + "@reboot"
        }
    }

    private static func schedule(of words: [Word]) throws(CronParseError) -> CronSchedule {
        let head = words[0]
        guard head.text.hasPrefix("@") else { return .calendar(try spec(of: words)) }
        if head.text == "@every" {
            guard words.count == 2 else {
                throw .badDuration(words.dropFirst().map(\.text).joined(separator: " "), column: head.column + 7,
                                   reason: "expected one duration such as 90s, 5m or 1h30m")
            }
            do {
                return .every(seconds: try CronDuration.seconds(parsing: words[1].text))
            } catch {
                throw .badDuration(words[1].text, column: words[1].column, reason: error.description)
            }
        }
        if head.text == "@reboot" || nicknames[head.text] != nil {
            guard words.count == 1 else {
                throw .trailingText(after: head.text, column: words[1].column)
            }
            if head.text == "@reboot" { return .reboot }
            return .calendar(try spec(of: Self.words(of: nicknames[head.text]!)))
        }
        throw .badNickname(head.text, column: head.column)
    }

    private static func spec(of words: [Word]) throws(CronParseError) -> CronSpec {
        let layout: [CronField]
        switch words.count {
        case 5: layout = [.minute, .hour, .dayOfMonth, .month, .dayOfWeek]
        case 6: layout = [.second, .minute, .hour, .dayOfMonth, .month, .dayOfWeek]
        case 7: layout = [.second, .minute, .hour, .dayOfMonth, .month, .dayOfWeek, .year]
        default: throw .fieldCount(found: words.count)
        }
        var fields: [CronField: ParsedField] = [:]
        for (field, word) in zip(layout, words) {
            var parser = try CronFieldParser(text: word.text[...], column: word.column, field: field)
            fields[field] = try parser.parse()
        }
        return CronSpec(fields: fields)
    }

    // MARK: words

    struct Word {
        let text: String
        let column: Int
    }

    /// Splits on spaces and tabs, remembering each word's 1-based column.
    static func words(of text: String) -> [Word] {
        var words: [Word] = []
        var current = ""
        var start = 0
        for (index, scalar) in text.unicodeScalars.enumerated() {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                if !current.isEmpty { words.append(Word(text: current, column: start + 1)) }
                current = ""
            } else {
                if current.isEmpty { start = index }
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { words.append(Word(text: current, column: start + 1)) }
        return words
    }
}

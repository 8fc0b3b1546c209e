/// The canonical text of a spec: numbers only, ranges and steps where they are shorter, and the
/// leading `*` kept wherever it changes meaning (the DST rule, the day-field combination).
extension CronSpec: CustomStringConvertible {
    public var description: String {
        var fields: [String] = []
        let showSeconds = seconds != 1 || years != nil
        if showSeconds { fields.append(Self.text(of: seconds, in: 0...59, starred: seconds == Self.all(0...59))) }
        fields.append(Self.text(of: minutes, in: 0...59, starred: minuteStarred))
        fields.append(Self.text(of: UInt64(hours), in: 0...23, starred: hourStarred))
        fields.append(Self.text(of: UInt64(daysOfMonth), in: 1...31, starred: dayOfMonthStarred,
                                extra: dayOfMonthRules.map(\.text)))
        fields.append(Self.text(of: UInt64(months), in: 1...12, starred: UInt64(months) == Self.all(1...12)))
        let andMarker = combination == .and && !dayOfMonthStarred && !dayOfWeekStarred ? "+" : ""
        fields.append(andMarker + Self.text(of: UInt64(weekdays), in: 0...6, starred: dayOfWeekStarred,
                                            extra: dayOfWeekRules.map(\.text)))
        if let years { fields.append(Self.listText(years.sorted)) }
        return fields.joined(separator: " ")
    }

    static func all(_ range: ClosedRange<Int>) -> UInt64 {
        range.reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
    }

    private static func text(of mask: UInt64, in range: ClosedRange<Int>, starred: Bool, extra: [String] = []) -> String {
        let values = range.filter { mask & (1 << UInt64($0)) != 0 }
        var items: [String] = []
        if starred {
            items.append(starText(values, in: range))
        } else if !values.isEmpty {
            items.append(listText(values))
        }
        return (items + extra).joined(separator: ",")
    }

    /// `*`, or `*/n` for the widest step whose progression the set holds, then whatever else the set holds.
    private static func starText(_ values: [Int], in range: ClosedRange<Int>) -> String {
        if values.count == range.count { return "*" }
        let present = Set(values)
        let step = (2...range.count).first { step in
            stride(from: range.lowerBound, through: range.upperBound, by: step).allSatisfy(present.contains)
        }!
        let rest = present.subtracting(stride(from: range.lowerBound, through: range.upperBound, by: step)).sorted()
        return "*/\(step)" + (rest.isEmpty ? "" : "," + listText(rest))
    }

    /// `a-b/n` for an arithmetic progression of three or more, else runs as `a-b` and single values.
    static func listText(_ values: [Int]) -> String {
        if values.count >= 3 {
            let step = values[1] - values[0]
            if step >= 2, zip(values, values.dropFirst()).allSatisfy({ $1 - $0 == step }) {
                return "\(values[0])-\(values.last!)/\(step)"
            }
        }
        var parts: [String] = []
        var index = 0
        while index < values.count {
            var end = index
            while end + 1 < values.count, values[end + 1] == values[end] + 1 { end += 1 }
            if end - index >= 2 {
                parts.append("\(values[index])-\(values[end])")
            } else {
                parts.append(contentsOf: values[index...end].map(String.init))
            }
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}

extension DayOfMonthRule {
    var text: String {
        switch self {
        case .last(0): "L"
        case .last(let offset): "L-\(offset)"
        case .nearestWeekday(let day): "\(day)W"
        case .lastWeekday: "LW"
        }
    }
}

extension DayOfWeekRule {
    var text: String {
        switch self {
        case .nth(let weekday, let n): "\(weekday)#\(n)"
        case .last(let weekday): "\(weekday)#L"
        }
    }
}

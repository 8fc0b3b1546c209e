/// Builds the period table of `ZoneRules` from a TZif file: its transitions, then the footer's rule
/// year by year up to `end`.
struct ZoneTable {
    private(set) var starts: [Int64] = [.min]
    private(set) var offsets: [Int32]

    /// The periods of `tzif` before `end`; adjacent periods with equal offsets are merged.
    init(_ tzif: TZif, until end: Int64, rulesFrom firstYear: Int) throws(TZifError) {
        offsets = [tzif.typeOffsets[0]]
        for transition in tzif.transitions where transition.at < end {
            append(transition.at, tzif.typeOffsets[transition.type])
        }
        guard let footer = tzif.footer else { return }
        let rule: PosixZoneRule
        do {
            rule = try PosixRuleScanner.parse(footer)
        } catch {
            throw .badRule(footer, error)
        }
        // The footer rules instants after the last transition, or all instants of a file without any.
        guard let last = tzif.transitions.last?.at else {
            offsets[0] = rule.standardOffset
            appendRule(rule, after: .min, from: firstYear, until: end)
            return
        }
        let lastYear = WallTime(secondsSinceEpoch: max(last, Self.minimumRuleInstant)).year
        appendRule(rule, after: last, from: lastYear, until: end)
    }

    /// Years before this are never ruled by a footer: the 64-bit block lists every transition it covers.
    private static let minimumRuleInstant: Int64 = -62_135_596_800    // 0001-01-01

    /// A rule without DST adds nothing: zic writes it only when it matches the last transition's type.
    private mutating func appendRule(_ rule: PosixZoneRule, after last: Int64, from firstYear: Int, until end: Int64) {
        guard rule.daylight != nil else { return }
        var year = firstYear
        while true {
            for change in rule.transitions(inYear: year) where change.at > last {
                guard change.at < end else { return }
                append(change.at, change.utOffset)
            }
            year += 1
        }
    }

    /// Adds a period from `start`; one that starts with the last replaces it (DST all year, whose end of
    /// one year is the start of the next), and one that starts before it is dropped (a malformed rule).
    private mutating func append(_ start: Int64, _ offset: Int32) {
        guard start >= starts[starts.count - 1] else { return }
        if start == starts[starts.count - 1] {
            offsets[offsets.count - 1] = offset
            if offsets.count > 1, offsets[offsets.count - 2] == offset {
                starts.removeLast()
                offsets.removeLast()
            }
        } else if offset != offsets[offsets.count - 1] {
            starts.append(start)
            offsets.append(offset)
        }
    }
}

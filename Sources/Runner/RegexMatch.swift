import Foundation

/// `validate.regex`: a regular expression (ICU syntax, close to Go's RE2) against a text, with its groups.
enum RegexMatch {
    static let maxPatternBytes = 4_096
    static let maxTextBytes = 1 << 16

    /// -> `{matched, text, groups}`, or `nil, "why"` for a pattern that does not compile or input too large.
    static func first(in text: String, pattern: String) -> [LuaValue] {
        guard pattern.utf8.count <= maxPatternBytes, text.utf8.count <= maxTextBytes else {
            return HostResult.failure("validate.regex: pattern or text too long (at most \(maxPatternBytes) and \(maxTextBytes) bytes)")
        }
        let expression: NSRegularExpression
        do { expression = try NSRegularExpression(pattern: pattern) } catch {
            return HostResult.failure("validate.regex: '\(pattern)' is not a regular expression")
        }
        let whole = NSRange(text.startIndex..., in: text)
        guard let match = expression.firstMatch(in: text, range: whole) else { return [LuaTable.record(["matched": .boolean(false)])] }
        let groups = (1..<max(match.numberOfRanges, 1)).map { index -> LuaValue in
            Range(match.range(at: index), in: text).map { .string(String(text[$0])) } ?? .string("")
        }
        let matched = Range(match.range, in: text).map { String(text[$0]) } ?? ""
        return [LuaTable.record(["matched": .boolean(true), "text": .string(matched), "groups": LuaTable.list(groups)])]
    }
}

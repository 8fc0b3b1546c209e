import Foundation

/// `validate.regex`: a regular expression (ICU syntax, close to Go's RE2) against a text, with its groups.
/// ICU backtracks, so a pattern like `(a+)+$` can take exponential time: matching runs on the run's
/// thread under a time limit, checked from ICU's progress callback.
enum RegexMatch {
    static let maxPatternBytes = 4_096
    static let maxTextBytes = 1 << 16
    static let timeLimitMillis = 250

    /// -> `{matched, text, groups}`, or `nil, "why"` for a pattern that does not compile, input too large
    /// or a match that takes longer than the limit.
    static func first(in text: String, pattern: String) -> [LuaValue] {
        guard pattern.utf8.count <= maxPatternBytes, text.utf8.count <= maxTextBytes else {
            return HostResult.failure("validate.regex: pattern or text too long (at most \(maxPatternBytes) and \(maxTextBytes) bytes)")
        }
        let expression: NSRegularExpression
        do { expression = try NSRegularExpression(pattern: pattern) } catch {
            return HostResult.failure("validate.regex: '\(pattern)' is not a regular expression")
        }
        let deadline = LuaState.monotonicMillis() + Int64(timeLimitMillis)
        var found: NSTextCheckingResult?
        var timedOut = false
        expression.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(text.startIndex..., in: text)) { match, _, stop in
            if let match {
                found = match
                stop.pointee = true
            } else if LuaState.monotonicMillis() >= deadline {
                timedOut = true
                stop.pointee = true
            }
        }
        if timedOut {
            return HostResult.failure("validate.regex: matching '\(pattern)' took longer than \(timeLimitMillis) ms (a pattern that backtracks without bound?)")
        }
        guard let match = found else { return [LuaTable.record(["matched": .boolean(false)])] }
        let groups = (1..<max(match.numberOfRanges, 1)).map { index -> LuaValue in
            Range(match.range(at: index), in: text).map { .string(String(text[$0])) } ?? .string("")
        }
        let matched = Range(match.range, in: text).map { String(text[$0]) } ?? ""
        return [LuaTable.record(["matched": .boolean(true), "text": .string(matched), "groups": LuaTable.list(groups)])]
    }
}

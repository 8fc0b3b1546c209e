/// What zone tables need of a TZif file (RFC 8536): its transitions, its local time types and the POSIX
/// TZ string of its footer, which extends the transitions past the last one.
struct TZif: Equatable {
    /// A transition instant (seconds since 1970 UTC) and the index of the type in force from it on.
    struct Transition: Equatable {
        var at: Int64
        var type: Int
    }

    var version: Int
    /// In ascending order.
    var transitions: [Transition]
    /// The UTC offset in seconds of each local time type (`ttinfo`); never empty, and the first is in
    /// force before the first transition (RFC 8536 section 3.2). Zone tables need no DST flags or names.
    var typeOffsets: [Int32]
    /// The footer's TZ string; nil for version 1 files and for an empty footer.
    var footer: String?
}

/// Why bytes are not a usable TZif file; each case says where the file went wrong.
enum TZifError: Error, Equatable, CustomStringConvertible {
    case notTZif
    case truncated(section: String, needed: Int, available: Int)
    case badCount(field: String, value: Int)
    case badTypeIndex(transition: Int, index: Int, typeCount: Int)
    case unsortedTransitions(index: Int)
    case badOffset(type: Int, seconds: Int32)
    case badFooter(String)
    case badRule(String, PosixRuleError)

    var description: String {
        switch self {
        case .notTZif: "not a TZif file (no \"TZif\" magic)"
        case .truncated(let section, let needed, let available):
            "truncated TZif file: the \(section) needs \(needed) bytes, \(available) remain"
        case .badCount(let field, let value): "bad TZif header: \(field) is \(value)"
        case .badTypeIndex(let transition, let index, let typeCount):
            "transition \(transition) names local time type \(index), the file has \(typeCount)"
        case .unsortedTransitions(let index): "transition \(index) is not later than the one before it"
        case .badOffset(let type, let seconds): "local time type \(type) has an out-of-range UTC offset \(seconds)"
        case .badFooter(let reason): "bad TZif footer: \(reason)"
        case .badRule(let text, let error): "bad TZ rule \"\(text)\" in the TZif footer: \(error)"
        }
    }
}

import Foundation

/// The one-line error of a failed command (SPEC section 5): how it ended, then the last line it wrote
/// to stderr, short enough for a table; the whole stderr stays in the run's log.
enum CommandError {
    static let maxCharacters = 200

    /// `exit status 4: tar: /data: Cannot open: No such file or directory`.
    static func summary(_ ending: String, stderr: String) -> String {
        let last = stderr.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }
        guard let last else { return ending }
        let text = "\(ending): \(last.trimmingCharacters(in: .whitespaces))"
        return text.count <= maxCharacters ? text : String(text.prefix(maxCharacters - 1)) + "…"
    }

    /// `SIGTERM`; `signal 42` for one without a name.
    static func signalName(_ number: Int32) -> String {
        names[number].map { "SIG" + $0 } ?? "signal \(number)"
    }

    private static let names: [Int32: String] = [
        1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE", 9: "KILL", 10: "USR1",
        11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM", 16: "STKFLT", 17: "CHLD", 18: "CONT", 19: "STOP",
        20: "TSTP", 21: "TTIN", 22: "TTOU", 23: "URG", 24: "XCPU", 25: "XFSZ", 26: "VTALRM", 27: "PROF", 28: "WINCH",
        29: "IO", 30: "PWR", 31: "SYS",
    ]
}

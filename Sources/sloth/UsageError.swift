import ArgumentParser
import Foundation

/// The argument parser's answers, as docs/cli.md promises them: a usage error is one line on stderr,
/// `sloth: missing value for '--file <F>' (see 'sloth workflow add --help')`, exit 2; help, `--version`
/// and completion scripts go to stdout, exit 0.
enum UsageError {
    struct Outcome: Equatable {
        let stdout: String?
        let stderr: String?
        let status: Int32
    }

    static func outcome(of error: Error, arguments: [String]) -> Outcome {
        let code = Sloth.exitCode(for: error)
        if code == .success { return Outcome(stdout: Sloth.fullMessage(for: error), stderr: nil, status: ExitStatus.ok) }
        let message = oneLine(Sloth.message(for: error))
        guard !message.isEmpty else { return Outcome(stdout: nil, stderr: nil, status: code.rawValue) }
        guard code == .validationFailure else { return Outcome(stdout: nil, stderr: "sloth: \(message)", status: code.rawValue) }
        let help = (["sloth"] + commandPath(arguments) + ["--help"]).joined(separator: " ")
        return Outcome(stdout: nil, stderr: "sloth: \(message) (see '\(help)')", status: ExitStatus.invalidInput)
    }

    /// The parser's sentences start with a capital ("Missing value for …"); ours are lower case, like
    /// the rest of a `sloth:` line. Several lines become one.
    static func oneLine(_ message: String) -> String {
        let joined = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
        guard let first = joined.first, first.isUppercase, joined.dropFirst().first?.isLowercase == true else { return joined }
        return first.lowercased() + joined.dropFirst()
    }

    /// The subcommand names the arguments start with: the command whose help explains the error.
    static func commandPath(_ arguments: [String]) -> [String] {
        var command: ParsableCommand.Type = Sloth.self
        var path: [String] = []
        for word in arguments {
            let next = command.configuration.subcommands.first {
                $0._commandName == word || $0.configuration.aliases.contains(word)
            }
            guard let next else { break }
            command = next
            path.append(next._commandName)
        }
        return path
    }
}

/// Whole-number options are declared with `parsing: .unconditional`, so that `--limit -3` reaches
/// here and is refused as a value ("not a positive number") rather than read as a missing one.
enum NumberOption {
    static func check(_ value: Int, _ name: String, in range: ClosedRange<Int>) throws(ValidationError) {
        guard !range.contains(value) else { return }
        switch (range.lowerBound, range.upperBound) {
        case (1, Int.max): throw ValidationError("\(name): \(value) is not a positive number")
        case (let low, Int.max): throw ValidationError("\(name): \(value) is less than \(low)")
        case (let low, let high): throw ValidationError("\(name): \(value) is out of range \(low)-\(high)")
        }
    }
}

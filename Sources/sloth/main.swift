import ArgumentParser
import Foundation

/// Exit codes of SPEC section 4: usage errors and our invalid-input errors are 2, each one line on stderr.
do {
    if let problem = TextInput.invalidArgument(TextInput.rawArguments()) { throw InvalidInput(message: problem) }
    var command = try Sloth.parseAsRoot()
    try command.run()
} catch let error as InvalidInput {
    FileHandle.standardError.write(Data("sloth: \(error.message)\n".utf8))
    exit(ExitStatus.invalidInput)
} catch let error as CommandFailure {
    FileHandle.standardError.write(Data("sloth: \(error.message)\n".utf8))
    exit(ExitStatus.error)
} catch {
    let outcome = UsageError.outcome(of: error, arguments: Array(CommandLine.arguments.dropFirst()))
    if let text = outcome.stdout { print(text) }
    if let line = outcome.stderr { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    exit(outcome.status)
}

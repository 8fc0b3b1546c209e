import ArgumentParser
import Foundation

/// Exit codes of SPEC section 4: argument-parser's usage failures become 2, as do our invalid-input errors.
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
    let code = Sloth.exitCode(for: error)
    let message = Sloth.fullMessage(for: error)
    if !message.isEmpty {
        let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
        stream.write(Data((message + "\n").utf8))
    }
    exit(code == .validationFailure ? ExitStatus.invalidInput : code.rawValue)
}

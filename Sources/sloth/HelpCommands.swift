import ArgumentParser
import Control
import Foundation

// The commands that print what is made from the help text: man pages and completion scripts.

/// `sloth __manual [DUMP]`: a man page from the help text. Hidden: scripts/install runs it for
/// sloth(1), and for slothd(8) on `slothd --experimental-dump-help`.
struct ManualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "__manual", abstract: "Print a man page (roff) made from a command's help text.", shouldDisplay: false)

    /// The pages scripts/install writes, each pointing at the others.
    static let sections = ["sloth": 1, "slothd": 8]

    @Argument(help: ArgumentHelp("An ArgumentParser help dump, or - for stdin (default: sloth's own help).", valueName: "DUMP"))
    var dump: String?

    func run() throws {
        let data: Data
        switch dump {
        case nil: data = Data(Sloth._dumpHelp().utf8)
        case "-": data = FileHandle.standardInput.readDataToEndOfFile()
        case let path?:
            guard let contents = FileManager.default.contents(atPath: path) else { throw InvalidInput(message: "cannot read \(path)") }
            data = contents
        }
        let root: HelpDump.Command
        do {
            root = try HelpDump.decode(data).command
        } catch {
            throw InvalidInput(message: "\(dump ?? "sloth"): \(error)")
        }
        let others = Self.sections.filter { $0.key != root.commandName }.sorted { $0.key < $1.key }.map { "\($0.key)(\($0.value))" }
        print(ManualPage(root: root, section: Self.sections[root.commandName] ?? 1, version: SlothVersion.current, seeAlso: others).render(),
              terminator: "")
    }
}

/// `sloth completion bash|zsh|fish`: the completion script ArgumentParser makes from the command tree.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion", abstract: "Print the shell completion script for bash, zsh or fish.",
        discussion: """
            Load it now with: source <(sloth completion bash). scripts/install puts each script where its shell \
            looks (bash-completion, zsh site-functions, fish vendor_completions.d).
            """)

    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, zsh, fish
    }

    @Argument(help: "The shell: bash, zsh or fish.") var shell: Shell

    func run() {
        // The raw values are the three CompletionShell knows.
        print(Sloth.completionScript(for: CompletionShell(rawValue: shell.rawValue)!), terminator: "")
    }
}

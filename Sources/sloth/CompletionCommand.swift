import ArgumentParser

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

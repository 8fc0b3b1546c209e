import ArgumentParser
import Control

/// `sloth`: the command-line interface of slothd.
struct Sloth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sloth",
        abstract: "Command-line interface of slothd, the cron-style workflow scheduler.",
        discussion: """
            Commands other than run -f, state and scheduler next talk to slothd on its control socket: --socket, \
            else $SLOTH_SOCKET, else /run/slothd/control.sock for root and $XDG_RUNTIME_DIR/slothd/control.sock \
            for other users. run -f and state use the database in $SLOTHD_STATE_DIR, else /var/lib/slothd for \
            root and ~/.local/state/slothd for other users.

            Exit status: 0 ok; 1 error (slothd unreachable, or its socket refused); 2 usage or invalid input; \
            3 a task or the workflow failed; 4 agent communication error; 5 a hook failed. Errors are one line \
            on stderr, starting with "sloth: ".
            """,
        version: SlothVersion.current,
        subcommands: [RunCommand.self, WorkflowCommand.self, RunsCommand.self, StatusCommand.self, SchedulerCommand.self,
                      StackCommand.self, SecretsCommand.self, StateCommand.self, HookCommand.self, EventsCommand.self, AgentCLI.self, UICommand.self,
                      CompletionCommand.self, VersionCommand.self, ManualCommand.self]
    )
}

/// `-o/--output text|json`, shared by every listing.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version of sloth.")

    @Option(name: [.short, .customLong("output")], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        switch output {
        case .text: print("sloth \(SlothVersion.current)")
        case .json: print(try JSONOutput.encode(["version": SlothVersion.current]))
        }
    }
}

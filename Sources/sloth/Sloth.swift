import ArgumentParser
import Control

/// `sloth`: the command-line interface of slothd.
struct Sloth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sloth",
        abstract: "Command-line interface of slothd, the cron-style workflow scheduler.",
        version: SlothVersion.current,
        subcommands: [RunCommand.self, WorkflowCommand.self, RunsCommand.self, StatusCommand.self, SchedulerCommand.self,
                      StackCommand.self, SecretsCommand.self, StateCommand.self, HookCommand.self, EventsCommand.self, VersionCommand.self]
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

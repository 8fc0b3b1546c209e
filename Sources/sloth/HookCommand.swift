import ArgumentParser
import Control
import Foundation

/// `sloth hook …`: Lua scripts slothd runs when a matching event is recorded (SPEC section 9).
struct HookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Manage hooks: Lua scripts run for matching events (via slothd).",
        subcommands: [Add.self, List.self, Show.self, Enable.self, Disable.self, Remove.self, Test.self]
    )

    typealias Connection = WorkflowCommand.Connection

    static func show(_ hook: ControlAPI.Hook, _ output: OutputFormat) throws {
        if output == .json { return print(try JSONOutput.encode(hook)) }
        print(TextTable.render([["NAME", hook.name], ["EVENT", hook.event], ["ENABLED", hook.enabled ? "yes" : "no"],
                                ["FILE", hook.file ?? ""], ["DESCRIPTION", hook.description ?? ""], ["CREATED", hook.created_at],
                                ["UPDATED", hook.updated_at]]), terminator: "")
        if let executions = hook.executions, !executions.isEmpty {
            print("\n" + TextTable.render([["AT", "EVENT", "EVENT ID", "STATUS", "DURATION", "RUN", "ERROR"]] + executions.map {
                [$0.at, $0.event_type, $0.event_id.map(String.init) ?? "test", $0.status.rawValue, $0.duration, $0.run_id.map(String.init) ?? "-",
                 $0.error ?? ""]
            }), terminator: "")
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a hook: the script's on_event() runs for every matching event.")
        @Argument(help: "The hook's name.") var name: String
        @Option(help: ArgumentHelp("An event type, or prefix.* for every type under a prefix.", valueName: "TYPE")) var event: String
        @Option(help: ArgumentHelp("The Lua script; it reads the global `event` (type, timestamp, data, stack, run_id).", valueName: "F"))
        var script: String
        @Option(help: "What the hook does, shown by list and show.") var description: String?
        @OptionGroup var connection: Connection

        func run() throws {
            let body = ControlAPI.AddHook(name: name, event: event, script: try TextInput.read(script, what: "hook script"),
                                          file: URL(fileURLWithPath: script).standardizedFileURL.path, description: description)
            let added: ControlAPI.Hook = try daemonCall { () throws(ControlClient.Error) in try connection.client.post("/hooks", body) }
            try HookCommand.show(added, connection.output)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the hooks.")
        @OptionGroup var connection: Connection

        func run() throws {
            let all: [ControlAPI.Hook] = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/hooks") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(all))
            case .text:
                print(TextTable.render([["NAME", "EVENT", "ENABLED", "DESCRIPTION"]] + all.map {
                    [$0.name, $0.event, $0.enabled ? "yes" : "no", $0.description ?? ""]
                }), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a hook and its last ten executions.")
        @Argument(help: "The hook.") var name: String
        @OptionGroup var connection: Connection

        func run() throws {
            try HookCommand.show(try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/hooks/\(name)") },
                                 connection.output)
        }
    }

    static func post(_ name: String, _ action: String, _ connection: Connection) throws {
        let hook: ControlAPI.Hook = try daemonCall { () throws(ControlClient.Error) in
            try connection.client.post("/hooks/\(name)/\(action)", ControlClient.Empty())
        }
        try show(hook, connection.output)
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable", abstract: "Run the hook for its events again.")
        @Argument(help: "The hook.") var name: String
        @OptionGroup var connection: Connection
        func run() throws { try HookCommand.post(name, "enable", connection) }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "disable", abstract: "Keep the hook but skip it.")
        @Argument(help: "The hook.") var name: String
        @OptionGroup var connection: Connection
        func run() throws { try HookCommand.post(name, "disable", connection) }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a hook (its executions stay recorded).")
        @Argument(help: "The hook.") var name: String
        @OptionGroup var connection: Connection
        func run() throws { try daemonCall { () throws(ControlClient.Error) in try connection.client.delete("/hooks/\(name)") } }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Run a hook now on a mock event.", discussion: "Exit status 5 when the hook fails.")
        @Argument(help: "The hook.") var name: String
        @Option(name: .customLong("event-type"), help: ArgumentHelp("The mock event's type.", valueName: "TYPE")) var eventType: String
        @Option(name: .customLong("mock-data"), help: ArgumentHelp("The mock event's data, a JSON object.", valueName: "JSON")) var mockData = "{}"
        @OptionGroup var connection: Connection

        func run() throws {
            guard let data = JSONValue(json: mockData), case .object = data else {
                throw InvalidInput(message: "--mock-data is not a JSON object: \(mockData)")
            }
            // slothd gives a hook 300 s; the answer may take that long.
            let client = ControlClient(socket: connection.client.socket, timeoutSeconds: 330)
            let execution: ControlAPI.HookExecution = try daemonCall { () throws(ControlClient.Error) in
                try client.post("/hooks/\(name)/test", ControlAPI.TestHook(event_type: eventType, data: data))
            }
            switch connection.output {
            case .json: print(try JSONOutput.encode(execution))
            case .text:
                print("hook \(name): \(execution.status.rawValue) in \(execution.duration) (run \(execution.run_id.map(String.init) ?? "-"))"
                      + (execution.error.map { ": \($0)" } ?? ""))
            }
            if execution.status != .success { throw ExitCode(ExitStatus.hookFailed) }
        }
    }
}

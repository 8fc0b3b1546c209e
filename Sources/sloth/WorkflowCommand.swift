import ArgumentParser
import Control
import Foundation

/// `sloth workflow …`: the catalog slothd keeps.
struct WorkflowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Manage the workflow catalog (via slothd).",
        subcommands: [Add.self, Update.self, List.self, Show.self, History.self, Remove.self, Activate.self, Deactivate.self]
    )

    struct Connection: ParsableArguments {
        @Option(help: ArgumentHelp("The control socket (default: $SLOTH_SOCKET or the standard path).", valueName: "PATH"))
        var socket: String?
        @Option(name: [.short, .customLong("output")], help: "Output format: text or json.")
        var output: OutputFormat = .text

        var client: ControlClient { DaemonOptions.client(socket: socket) }
    }

    static func read(_ file: String) throws -> String { try TextInput.read(file, what: "workflow file") }

    static func show(_ workflow: ControlAPI.Workflow, _ output: OutputFormat) throws {
        switch output {
        case .json: print(try JSONOutput.encode(workflow))
        case .text:
            var rows = [["NAME", workflow.name], ["VERSION", String(workflow.version)], ["ACTIVE", workflow.active ? "yes" : "no"],
                        ["DESCRIPTION", workflow.description ?? ""], ["TAGS", workflow.tags.joined(separator: ", ")],
                        ["FILE", workflow.file ?? ""]] + (workflow.entry.map { [["ENTRY", $0]] } ?? []) + [
                        ["SHA256", workflow.sha256], ["CREATED", workflow.created_at],
                        ["UPDATED", workflow.updated_at], ["LAST USED", workflow.last_used_at ?? "never"],
                        ["RUNS", String(workflow.usage_count)]]
            if let changed = workflow.changed, !changed { rows.append(["NOTE", "content unchanged; no new version"]) }
            print(TextTable.render(rows), terminator: "")
            if let content = workflow.content { print("\n" + content) }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a workflow file to the catalog as NAME.")
        @Argument(help: "The name it gets in the catalog.") var name: String
        @Option(name: [.customLong("file")], help: ArgumentHelp("The workflow file.", valueName: "F")) var file: String
        @Option(help: "What it does, shown by list and show.") var description: String?
        @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
        @Flag(help: "Add it inactive (not runnable until activated).") var inactive = false
        @Option(name: .customLong("workflow"), help: ArgumentHelp("The workflow of the file that NAME runs, when the file defines several.",
                                                                  valueName: "W"))
        var entry: String?
        @OptionGroup var connection: Connection

        func run() throws {
            let body = ControlAPI.AddWorkflow(name: name, content: try WorkflowCommand.read(file),
                                              file: URL(fileURLWithPath: file).standardizedFileURL.path,
                                              description: description, tags: tags, active: !inactive, workflow: entry)
            let added: ControlAPI.Workflow = try daemonCall { () throws(ControlClient.Error) in try connection.client.post("/workflows", body) }
            try WorkflowCommand.show(added, connection.output)
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Store a new version of NAME from a file (old versions are kept).")
        @Argument(help: "The catalog workflow.") var name: String
        @Option(name: [.customLong("file")], help: ArgumentHelp("The workflow file.", valueName: "F")) var file: String
        @Option(name: .customLong("workflow"),
                help: ArgumentHelp("The workflow of the file that NAME runs, when the file defines several (default: the one it ran so far).",
                                   valueName: "W"))
        var entry: String?
        @OptionGroup var connection: Connection

        func run() throws {
            let body = ControlAPI.UpdateWorkflow(content: try WorkflowCommand.read(file), file: URL(fileURLWithPath: file).standardizedFileURL.path,
                                                 workflow: entry)
            let updated: ControlAPI.Workflow = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.put("/workflows/\(name)", body)
            }
            try WorkflowCommand.show(updated, connection.output)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the catalog.")
        @OptionGroup var connection: Connection

        func run() throws {
            let all: [ControlAPI.Workflow] = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/workflows") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(all))
            case .text:
                let rows = [["NAME", "VERSION", "ACTIVE", "RUNS", "LAST USED", "DESCRIPTION"]] + all.map {
                    [$0.name, String($0.version), $0.active ? "yes" : "no", String($0.usage_count), $0.last_used_at ?? "never", $0.description ?? ""]
                }
                print(TextTable.render(rows), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a workflow (with --content, its file).")
        @Argument(help: "The catalog workflow.") var name: String
        @Flag(help: "Print the workflow's current content too.") var content = false
        @OptionGroup var connection: Connection

        func run() throws {
            let workflow: ControlAPI.Workflow = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.get("/workflows/\(name)\(content ? "?content=1" : "")")
            }
            try WorkflowCommand.show(workflow, connection.output)
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "List the stored versions of a workflow, newest first.")
        @Argument(help: "The catalog workflow.") var name: String
        @OptionGroup var connection: Connection

        func run() throws {
            let versions: [ControlAPI.Version] = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.get("/workflows/\(name)/history")
            }
            switch connection.output {
            case .json: print(try JSONOutput.encode(versions))
            case .text:
                let rows = [["VERSION", "CREATED", "SHA256", "FILE"]] + versions.map {
                    [String($0.version), $0.created_at, String($0.sha256.prefix(12)), $0.file ?? ""]
                }
                print(TextTable.render(rows), terminator: "")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a workflow and its versions (its runs stay in the history).")
        @Argument(help: "The catalog workflow.") var name: String
        @OptionGroup var connection: Connection
        func run() throws { try daemonCall { () throws(ControlClient.Error) in try connection.client.delete("/workflows/\(name)") } }
    }

    static func setActive(_ name: String, _ active: Bool, _ connection: Connection) throws {
        let workflow: ControlAPI.Workflow = try daemonCall { () throws(ControlClient.Error) in
            try connection.client.post("/workflows/\(name)/\(active ? "activate" : "deactivate")", ControlClient.Empty())
        }
        try show(workflow, connection.output)
    }

    struct Activate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "activate", abstract: "Make a workflow runnable.")
        @Argument(help: "The catalog workflow.") var name: String
        @OptionGroup var connection: Connection
        func run() throws { try WorkflowCommand.setActive(name, true, connection) }
    }

    struct Deactivate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deactivate", abstract: "Keep a workflow in the catalog but refuse to run it.")
        @Argument(help: "The catalog workflow.") var name: String
        @OptionGroup var connection: Connection
        func run() throws { try WorkflowCommand.setActive(name, false, connection) }
    }
}

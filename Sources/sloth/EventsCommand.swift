import ArgumentParser
import Control
import Foundation

/// `sloth events …`: what happened, as slothd recorded it (SPEC section 9).
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List, show and clean up recorded events (via slothd).",
        subcommands: [List.self, Show.self, Cleanup.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Newest first.")
        @Option(help: ArgumentHelp("An event type, or a prefix pattern such as secret.*", valueName: "T")) var type: String?
        @Option(parsing: .unconditional, help: ArgumentHelp("Show at most N events.", valueName: "N")) var limit = 50
        @OptionGroup var connection: WorkflowCommand.Connection

        func validate() throws { try NumberOption.check(limit, "--limit", in: 1...Int.max) }

        func run() throws {
            var query = ["limit=\(limit)"]
            if let type { query.append("type=\(type.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? type)") }
            let events: [ControlAPI.Event] = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.get("/events?\(query.joined(separator: "&"))")
            }
            switch connection.output {
            case .json: print(try JSONOutput.encode(events))
            case .text:
                print(TextTable.render([["ID", "TYPE", "AT", "STACK", "RUN", "DATA"]] + events.map {
                    [String($0.id), $0.type, $0.at, $0.stack ?? "-", $0.run_id.map(String.init) ?? "-", $0.data.json]
                }), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One event with its data.")
        @Argument(help: "The event's id (see events list).") var id: Int64
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let event: ControlAPI.Event = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/events/\(id)") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(event))
            case .text:
                print(TextTable.render([["ID", String(event.id)], ["TYPE", event.type], ["AT", event.at], ["STACK", event.stack ?? "-"],
                                        ["RUN", event.run_id.map(String.init) ?? "-"], ["DATA", event.data.json]]), terminator: "")
            }
        }
    }

    struct Cleanup: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cleanup", abstract: "Delete events older than a duration.")
        @Option(name: .customLong("older-than"), parsing: .unconditional, help: ArgumentHelp("For example 7d, 12h, 1h30m.", valueName: "DUR")) var olderThan: String
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let done: ControlAPI.EventsCleanup = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/events/cleanup", ControlAPI.EventsCleanup(older_than: olderThan))
            }
            switch connection.output {
            case .json: print(try JSONOutput.encode(done))
            case .text: print("\(done.deleted ?? 0) events deleted")
            }
        }
    }
}

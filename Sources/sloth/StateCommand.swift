import ArgumentParser
import Catalog
import Foundation
import Runner
import Scheduler

/// `sloth state …`: the same state workflows see through the `state` module.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Read and change workflow state.",
        subcommands: [Get.self, Set.self, List.self, Delete.self]
    )

    struct Scope: ParsableArguments {
        @Option(help: ArgumentHelp("The stack whose state to use (default: the active stack, if any; \"\" for none).", valueName: "S"))
        var stack: String?

        func store() throws -> StateStore {
            let database = try LocalDatabase.open()
            return StateStore(database: database, scope: try LocalDatabase.stack(stack, in: database) ?? "")
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Print the value of KEY (strings bare, others as JSON).")
        @Argument(help: "The state key.") var key: String
        @OptionGroup var scope: Scope

        func run() throws {
            guard let json = try scope.store().get(key) else { throw InvalidInput(message: "no state key \"\(key)\"") }
            print(StateValueText.display(json: json))
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Set KEY to VALUE (JSON if it parses as JSON, else a string).")
        @Argument(help: "The state key.") var key: String
        @Argument(help: "The value: JSON (3, true, {\"a\": 1}) or else a string.") var value: String
        @Option(parsing: .unconditional, help: ArgumentHelp("Expire the key after this long (90s, 5m, 1h30m).", valueName: "DUR"))
        var ttl: String?
        @OptionGroup var scope: Scope

        func run() throws {
            var ttlSeconds: Double?
            if let ttl {
                do {
                    ttlSeconds = Double(try CronDuration.seconds(parsing: ttl))
                } catch {
                    throw InvalidInput(message: "invalid --ttl \"\(ttl)\": \(error)")
                }
            }
            try scope.store().set(key, json: StateValueText.json(fromArgument: value), ttlSeconds: ttlSeconds, audit: .init(uid: getuid()))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List keys (and values) starting with PREFIX.")
        @Argument(help: "Only keys starting with this (default: all).") var prefix: String = ""
        @OptionGroup var scope: Scope
        @Option(name: [.short, .customLong("output")], help: "Output format: text or json.")
        var output: OutputFormat = .text

        func run() throws {
            let store = try scope.store()
            let keys = try store.keys(prefix: prefix)
            let values = try keys.map { try store.get($0) ?? "null" }
            switch output {
            case .json:
                print("{" + zip(keys, values).map { "\(try! JSONOutput.encode($0.0)):\($0.1)" }.joined(separator: ",") + "}")
            case .text:
                let rows = [["KEY", "VALUE"]] + zip(keys, values).map { [$0.0, StateValueText.display(json: $0.1)] }
                print(TextTable.render(rows), terminator: "")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete KEY.")
        @Argument(help: "The state key.") var key: String
        @OptionGroup var scope: Scope

        func run() throws {
            guard try scope.store().delete(key, audit: .init(uid: getuid())) else { throw InvalidInput(message: "no state key \"\(key)\"") }
        }
    }
}

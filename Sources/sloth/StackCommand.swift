import ArgumentParser
import Control
import Foundation

/// `sloth stack …`: environments with their own values, state, secrets and run history (via slothd).
struct StackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stack",
        abstract: "Manage stacks: environments with their own values, state and secrets (via slothd).",
        subcommands: [New.self, List.self, Show.self, Delete.self, Activate.self, SetValues.self, Unset.self]
    )

    typealias Connection = WorkflowCommand.Connection

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new", abstract: "Create a stack.", aliases: ["create"])
        @Argument(help: "The new stack's name.") var name: String
        @Option(help: "What the stack is for, shown by list and show.") var description: String?
        @OptionGroup var connection: Connection

        func run() throws {
            let created: ControlAPI.Stack = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/stacks", ControlAPI.NewStack(name: name, description: description))
            }
            try StackView.show(created, connection.output)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the stacks (* marks the active one).")
        @OptionGroup var connection: Connection

        func run() throws {
            let all: [ControlAPI.Stack] = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/stacks") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(all))
            case .text: print(StackView.table(all), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a stack: values, secrets, last run and recent runs.")
        @Argument(help: "The stack.") var name: String
        @OptionGroup var connection: Connection

        func run() throws {
            let stack: ControlAPI.Stack = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/stacks/\(name)") }
            try StackView.show(stack, connection.output)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a stack with its values (runs stay in the history).",
            discussion: "A stack holding secrets or state is deleted only with --force, which deletes them with it, in one transaction.")
        @Argument(help: "The stack.") var name: String
        @Flag(help: "Also delete the stack's secrets and state.") var force = false
        @OptionGroup var connection: Connection

        func run() throws {
            try daemonCall { () throws(ControlClient.Error) in try connection.client.delete("/stacks/\(name)\(force ? "?force=1" : "")") }
        }
    }

    struct Activate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "activate", abstract: "Use this stack when a command's --stack is omitted.")
        @Argument(help: "The stack.") var name: String
        @OptionGroup var connection: Connection

        func run() throws {
            let stack: ControlAPI.Stack = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/stacks/\(name)/activate", ControlClient.Empty())
            }
            try StackView.show(stack, connection.output)
        }
    }

    struct SetValues: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set stack values, seen by workflows as `values`.",
            discussion: "A value that is JSON (3, true, null, \"text\", [1,2], {\"a\":1}) is stored as that; anything else as a string.")
        @Argument(help: "The stack.") var name: String
        @Argument(help: ArgumentHelp("key=value pairs.", valueName: "key=value")) var pairs: [String]
        @OptionGroup var connection: Connection

        func run() throws {
            guard !pairs.isEmpty else { throw InvalidInput(message: "give at least one key=value") }
            var values: [String: String] = [:]
            for pair in pairs {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw InvalidInput(message: "malformed value \"\(pair)\": expected key=value")
                }
                let text = String(pair[pair.index(after: equals)...])
                values[String(pair[..<equals])] = JSONValue(json: text) == nil ? JSONValue.string(text).json : text
            }
            let stack: ControlAPI.Stack = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/stacks/\(name)/values", ControlAPI.StackValues(set: values, unset: []))
            }
            try StackView.show(stack, connection.output)
        }
    }

    struct Unset: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unset", abstract: "Remove stack values.")
        @Argument(help: "The stack.") var name: String
        @Argument(help: ArgumentHelp("Keys to remove.", valueName: "key")) var keys: [String]
        @OptionGroup var connection: Connection

        func run() throws {
            guard !keys.isEmpty else { throw InvalidInput(message: "give at least one key") }
            let stack: ControlAPI.Stack = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/stacks/\(name)/values", ControlAPI.StackValues(set: [:], unset: keys))
            }
            try StackView.show(stack, connection.output)
        }
    }
}

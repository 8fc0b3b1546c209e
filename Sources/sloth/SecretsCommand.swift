import ArgumentParser
import Control
import Foundation

/// `sloth secrets …`: values sealed by slothd. A value is read from stdin or a file, never from the
/// command line, where other users could see it in the process list.
struct SecretsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Manage encrypted secrets, readable by workflows as secrets.get(NAME) (via slothd).",
        subcommands: [SetSecret.self, Get.self, List.self, Remove.self, Rekey.self]
    )

    struct Slot: ParsableArguments {
        @Argument(help: "The secret's name, as workflows read it with secrets.get(NAME).") var name: String
        @Option(help: ArgumentHelp("The stack the secret belongs to (default: the active stack, if any; \"\" for none).", valueName: "S"))
        var stack: String?

        var path: String {
            "/secrets/\(name)" + (stack.map { "?stack=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
        }
    }

    struct SetSecret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set a secret from stdin (one trailing newline dropped) or from a file (as is).",
            discussion: "On a terminal the value is asked for without echo. Example: printf %s \"$TOKEN\" | sloth secrets set api_token --stack prod")
        @OptionGroup var slot: Slot
        @Option(name: .customLong("from-file"), help: ArgumentHelp("Read the value from this file.", valueName: "F")) var file: String?
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let value = try SecretInput.read(file: file, name: slot.name)
            let answer: ControlAPI.Secret = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.put(slot.path, ControlAPI.SecretValue(value: value))
            }
            switch connection.output {
            case .json: print(try JSONOutput.encode(answer))
            case .text:
                let place = answer.stack.map { " in stack \($0)" } ?? ""
                print("secret \(answer.name)\(place) \(answer.created == true ? "created" : "updated")")
            }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a secret's value (recorded as secret.accessed).")
        @OptionGroup var slot: Slot
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let secret: ControlAPI.Secret = try daemonCall { () throws(ControlClient.Error) in try connection.client.get(slot.path) }
            switch connection.output {
            case .json: print(try JSONOutput.encode(secret))
            case .text:
                FileHandle.standardOutput.write(Data((secret.value ?? "").utf8))
                if isatty(STDOUT_FILENO) != 0 { print() }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List secrets: names and dates, never values (all stacks unless --stack).")
        @Option(help: ArgumentHelp("Only this stack's secrets (\"\" for those outside any stack).", valueName: "S")) var stack: String?
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let query = stack.map { "?stack=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? ""
            let all: [ControlAPI.Secret] = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/secrets\(query)") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(all))
            case .text:
                print(TextTable.render([["NAME", "STACK", "CREATED", "UPDATED", "LAST READ"]] + all.map {
                    [$0.name, $0.stack ?? "-", $0.created_at, $0.updated_at, $0.accessed_at ?? "never"]
                }), terminator: "")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a secret.")
        @OptionGroup var slot: Slot
        @OptionGroup var connection: WorkflowCommand.Connection
        func run() throws { try daemonCall { () throws(ControlClient.Error) in try connection.client.delete(slot.path) } }
    }
}

extension SecretsCommand {
    struct Rekey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rekey",
            abstract: "Re-seal every secret with a new key, in one transaction.",
            discussion: """
                Without --new-key-file slothd makes a fresh key and replaces <state dir>/secrets.key. A key from systemd \
                credentials cannot be replaced by slothd: give the new key's file, then install it as the credential \
                before slothd restarts (docs/secrets.md).
                """)
        @Option(name: .customLong("new-key-file"), help: ArgumentHelp("The new key: 32 bytes, or their base64 or hex text.", valueName: "F"))
        var file: String?
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            var body = ControlAPI.Rekey(key_file_base64: nil)
            if let file {
                guard let data = FileManager.default.contents(atPath: file) else { throw InvalidInput(message: "cannot read \(file)") }
                body.key_file_base64 = data.base64EncodedString()
            }
            let done: ControlAPI.Rekeyed = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/secrets-key/rotate", body)
            }
            switch connection.output {
            case .json: print(try JSONOutput.encode(done))
            case .text:
                print("\(done.secrets) secrets re-sealed with key \(done.key_id)")
                if done.credentials { print("now install the new key as the credential \(done.key_path) before slothd restarts") }
            }
        }
    }
}

/// Where `secrets set` gets the value: a file, a prompt without echo, or piped stdin.
enum SecretInput {
    static func read(file: String?, name: String) throws -> String {
        let bytes: Data
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw InvalidInput(message: "cannot read \(file)") }
            bytes = data
        } else if isatty(STDIN_FILENO) != 0 {
            bytes = Data(try prompt("Value for secret \(name): ").utf8)
        } else {
            var data = FileHandle.standardInput.readDataToEndOfFile()
            if data.last == UInt8(ascii: "\n") { data.removeLast() }
            if data.last == UInt8(ascii: "\r") { data.removeLast() }
            bytes = data
        }
        let value = try TextInput.decode(bytes, what: "the secret value")
        guard !value.isEmpty else { throw InvalidInput(message: "the secret value is empty") }
        return value
    }

    /// One line from the terminal with echo off.
    private static func prompt(_ text: String) throws -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw InvalidInput(message: "no value given") }
        return line
    }
}

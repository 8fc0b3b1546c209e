import ArgumentParser
import Control
import Foundation

/// `sloth agent …`: the hosts a master delegates tasks to, their tokens, and one-off commands (SPEC section 8).
struct AgentCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Manage agents: list them, their tokens, and run a command on one (via slothd).",
        subcommands: [List.self, Show.self, Remove.self, Run.self, Token.self]
    )

    typealias Connection = WorkflowCommand.Connection

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the agents the master knows, connected or not.")
        @OptionGroup var connection: Connection

        func run() throws {
            let agents: [ControlAPI.Agent] = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/agents") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(agents))
            case .text: print(AgentView.table(agents), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an agent: its facts, tags and recent tasks.")
        @Argument(help: "The agent.") var name: String
        @OptionGroup var connection: Connection

        func run() throws {
            let agent: ControlAPI.Agent = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/agents/\(name)") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(agent))
            case .text: print(AgentView.details(agent), terminator: "")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Forget a disconnected agent (its tokens stay until revoked).")
        @Argument(help: "The agent.") var name: String
        @OptionGroup var connection: Connection

        func run() throws {
            try daemonCall { () throws(ControlClient.Error) in try connection.client.delete("/agents/\(name)") }
            print("removed agent \(name)")
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run one shell command on an agent; its output is streamed, its exit status passed on.",
            discussion: "Exit status: the command's; 4 when the agent is not connected or went away before the command ended.")
        @Argument(help: "The agent.") var name: String
        @Argument(help: "The shell command (run with /bin/sh -c on the agent).") var command: String
        @Option(parsing: .unconditional, help: ArgumentHelp("Kill the command after this many seconds.", valueName: "SECONDS"))
        var timeout: Int?
        @OptionGroup var connection: Connection

        func validate() throws {
            if let timeout, timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
        }

        func run() throws {
            let client = connection.client
            let started: ControlAPI.AgentCommandStarted
            do {
                started = try client.post("/agents/\(name)/run", ControlAPI.AgentCommand(command: command, timeout_s: timeout))
            } catch .refused(_, "agent_unavailable", let message) {
                FileHandle.standardError.write(Data("sloth: \(message)\n".utf8))
                throw ExitCode(ExitStatus.agentUnreachable)
            } catch {
                _ = try daemonCall { () throws(ControlClient.Error) in throw error }
                return
            }
            var after = 0
            while true {
                let page: ControlAPI.AgentCommandOutput = try daemonCall { () throws(ControlClient.Error) in
                    try client.get("/agent-commands/\(started.id)?after=\(after)&wait=25000")
                }
                for chunk in page.chunks {
                    (chunk.stderr ? FileHandle.standardError : FileHandle.standardOutput).write(Data(chunk.text.utf8))
                }
                after = page.next
                guard page.finished else { continue }
                // ExitCode(0) thrown would print an empty line on stdout after the command's output.
                if page.exit_code == 0 { return }
                if let code = page.exit_code { throw ExitCode(Int32(code)) }
                FileHandle.standardError.write(Data("sloth: \(page.error ?? "the command did not finish")\n".utf8))
                throw ExitCode(ExitStatus.agentUnreachable)
            }
        }
    }
}

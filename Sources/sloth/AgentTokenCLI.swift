import ArgumentParser
import Control
import Foundation

extension AgentCLI {
    /// `sloth agent token create|list|revoke`: a token is printed once, when it is created.
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: "Manage agent tokens (the master keeps only their hashes).",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "create",
                abstract: "Create a token for the agent NAME and print it (once: it is not kept).",
                discussion: "Save it on the agent's host in a file of mode 0600 and start the agent with --token-file FILE.")
            @Argument(help: "The agent's name (it must register with this name).") var name: String
            @OptionGroup var connection: Connection

            func run() throws {
                let created: ControlAPI.AgentToken = try daemonCall { () throws(ControlClient.Error) in
                    try connection.client.post("/agent-tokens", ControlAPI.NewAgentToken(name: name))
                }
                switch connection.output {
                case .json: print(try JSONOutput.encode(created))
                case .text:
                    print(created.token ?? "")
                    FileHandle.standardError.write(Data("token \(created.id) for agent \(name): shown once, keep it in a 0600 file\n".utf8))
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List agent tokens (never their text).")
            @OptionGroup var connection: Connection

            func run() throws {
                let tokens: [ControlAPI.AgentToken] = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/agent-tokens") }
                switch connection.output {
                case .json: print(try JSONOutput.encode(tokens))
                case .text:
                    print(TextTable.render([["ID", "AGENT", "CREATED", "LAST USED", "REVOKED"]] + tokens.map {
                        [String($0.id), $0.name, $0.created_at, $0.last_used_at ?? "never", $0.revoked_at ?? "-"]
                    }), terminator: "")
                }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token: agents presenting it are refused from now on.")
            @Argument(help: "The token's ID (sloth agent token list).") var id: String
            @OptionGroup var connection: Connection

            func run() throws {
                let token: ControlAPI.AgentToken = try daemonCall { () throws(ControlClient.Error) in
                    try connection.client.delete("/agent-tokens/\(id)", as: ControlAPI.AgentToken.self)
                }
                print("revoked token \(token.id) of agent \(token.name)")
            }
        }
    }
}

enum AgentView {
    static func table(_ agents: [ControlAPI.Agent]) -> String {
        guard !agents.isEmpty else { return "no agents (sloth agent token create NAME, then slothd agent on that host)\n" }
        return TextTable.render([["NAME", "STATUS", "ADDRESS", "TAGS", "RUNNING", "LAST-SEEN", "VERSION"]] + agents.map {
            [$0.name, $0.status, $0.address ?? "-", tags($0.tags), String($0.running), $0.last_seen, $0.version ?? "-"]
        })
    }

    static func details(_ agent: ControlAPI.Agent) -> String {
        var rows = [["NAME", agent.name], ["STATUS", agent.status], ["ADDRESS", agent.address ?? "-"], ["TAGS", tags(agent.tags)],
                    ["RUNNING", String(agent.running)], ["LAST SEEN", agent.last_seen], ["VERSION", agent.version ?? "-"],
                    ["REGISTERED", agent.registered_at]]
        rows += (agent.facts ?? [:]).sorted { $0.key < $1.key }.map { ["FACT \($0.key)", $0.value] }
        var text = TextTable.render(rows)
        let tasks = agent.recent_tasks ?? []
        text += tasks.isEmpty ? "\nno delegated task yet\n" : "\n" + TextTable.render([["RUN", "TASK", "STATUS", "ENDED"]] + tasks.map {
            [String($0.run_id), $0.task, $0.status, $0.ended_at ?? "-"]
        })
        return text
    }

    static func tags(_ tags: [String: String]) -> String {
        tags.isEmpty ? "-" : tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}

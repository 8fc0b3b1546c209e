import AgentWire
import Foundation

/// `sloth agent run NAME "cmd"`: one shell command on an agent, its output streamed back.
struct PendingCommand {
    let agent: String
    let output: @Sendable (_ stderr: Bool, _ bytes: [UInt8]) -> Void
    let exit: @Sendable (_ code: Int?, _ error: String?) -> Void
}

extension AgentHub {
    /// Sends the command; false (nothing sent) when the agent is not connected. `exit` is called once:
    /// with the command's exit status, or with an error when the agent went away first.
    public func runCommand(on agent: String, _ command: String, timeoutMillis: Int64,
                           output: @escaping @Sendable (_ stderr: Bool, _ bytes: [UInt8]) -> Void,
                           exit: @escaping @Sendable (_ code: Int?, _ error: String?) -> Void) -> Bool {
        guard live(agent) != nil else { return false }
        let id = UUID().uuidString
        commands.withLock { $0[id] = PendingCommand(agent: agent, output: output, exit: exit) }
        send(.with { $0.command = .with { $0.id = id; $0.command = command; $0.timeoutMs = timeoutMillis } }, to: agent)
        // Gone between the check and the send: its disconnect may already have run.
        if live(agent) == nil { endCommand(id, exitCode: nil, error: "agent \(agent) disconnected") }
        return true
    }

    func command(_ id: String) -> PendingCommand? { commands.withLock { $0[id] } }

    func endCommand(_ id: String, exitCode: Int?, error: String?) {
        commands.withLock { $0.removeValue(forKey: id) }?.exit(exitCode, error)
    }

    func endCommands(of agent: String, error: String) {
        let ended = commands.withLock { pending in
            let ids = pending.filter { $0.value.agent == agent }.map(\.key)
            return ids.compactMap { pending.removeValue(forKey: $0) }
        }
        for command in ended { command.exit(nil, error) }
    }
}

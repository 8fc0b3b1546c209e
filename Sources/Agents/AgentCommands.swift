import AgentWire
import Foundation
import Runner

/// `sloth agent run NAME "cmd"` on the agent: the command runs as a one-task workflow, so it gets what
/// every job gets — its own process group, output streamed line by line, killed on timeout.
struct AgentCommands: Sendable {
    static let source = """
        task("run"):command(function(this, params)
          local timeout = tonumber(params.timeout_ms)
          return exec.run(params.command, { timeout = timeout and (timeout .. "ms") or nil })
        end):build()
        """

    let runner: WorkflowRunner
    let send: @Sendable (Slothd_Agent_V1_AgentMessage) -> Bool

    func run(_ command: Slothd_Agent_V1_RunCommand) {
        var params = ["command": command.command]
        if command.timeoutMs > 0 { params["timeout_ms"] = String(command.timeoutMs) }
        let task = OfferedTask(file: "agent-run.sloth", source: Self.source, workflow: "agent-run", task: "run", params: params,
                               valuesJSON: "{}", stack: nil, depsJSON: "{}", masked: [])
        LuaThread.detach(name: "slothd agent command") { [self] in
            let outcome = runner.runOffered(task, link: NoMaster(), lines: { lines in
                for line in lines where line.stream != nil {
                    _ = send(.with {
                        $0.output = .with { $0.id = command.id; $0.stderr = line.stream == "stderr"; $0.data = Data((line.message + "\n").utf8) }
                    })
                }
            })
            _ = send(.with {
                $0.exit = .with {
                    $0.id = command.id
                    $0.exitCode = Int32(outcome.exitCode ?? (outcome.success ? 0 : 1))
                    if outcome.exitCode == nil, let error = outcome.error { $0.error = error }
                }
            })
        }
    }
}

/// A command run by `agent run` belongs to no run: it has no secrets or state to ask for.
private struct NoMaster: MasterLink {
    func secret(_ name: String) throws(LuaHostError) -> String? { throw LuaHostError("agent run: a command has no secrets") }
    func state(_ function: String, arguments: [LuaValue]) throws(LuaHostError) -> [LuaValue] {
        throw LuaHostError("agent run: a command has no state")
    }
}

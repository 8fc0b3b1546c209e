import Agents
import Catalog
import Control
import Foundation

/// `/v1/agents`, `/v1/agent-tokens` and `/v1/agent-commands` (SPEC section 8). A token's text is in
/// one answer only, the one that created it; the audit names the token, never its text.
extension ControlRouter {
    var agentStore: AgentStore { AgentStore(database: database) }

    func listAgents() throws -> [ControlAPI.Agent] {
        try agentStore.list().map(wire)
    }

    func showAgent(_ name: String) throws -> ControlAPI.Agent {
        var shown = wire(try agentStore.get(name))
        shown.facts = try agentStore.get(name).facts
        shown.recent_tasks = try agentStore.recentTasks(name).map {
            ControlAPI.AgentTask(run_id: $0.runID, task: $0.task, status: $0.status, ended_at: $0.endedAt.map(preciseTime))
        }
        return shown
    }

    func removeAgent(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        try agentStore.remove(name)
        try audit(request, "agent.remove", name)
        return .json(ControlClient.Empty())
    }

    func createAgentToken(_ request: ControlRequest) throws -> ControlResponse {
        let body = try decode(ControlAPI.NewAgentToken.self, request)
        guard Self.validName(body.name) else { throw BadRequest(message: "invalid agent name \"\(body.name)\": use letters, digits, . _ -") }
        let (token, secret) = try agentStore.createToken(name: body.name)
        try audit(request, "agent.token_create", body.name, detail: "token \(token.id)")
        var answer = wire(token)
        answer.token = secret
        return .json(answer, status: 201)
    }

    func revokeAgentToken(_ id: String, _ request: ControlRequest) throws -> ControlResponse {
        guard let number = Int64(id) else { throw BadRequest(message: "invalid token id \"\(id)\": a number from sloth agent token list") }
        let token = try agentStore.revokeToken(number)
        try audit(request, "agent.token_revoke", token.name, detail: "token \(token.id)")
        return .json(wire(token))
    }

    func runOnAgent(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        let body = try decode(ControlAPI.AgentCommand.self, request)
        guard !body.command.isEmpty else { throw BadRequest(message: "agent run: the command is empty") }
        if let timeout = body.timeout_s, timeout < 1 { throw BadRequest(message: "agent run: --timeout must be at least 1 second") }
        guard let commands = agentCommands,
              let id = commands.start(agent: name, command: body.command, timeoutMillis: Int64(body.timeout_s ?? 0) * 1000) else {
            throw BadRequest(status: 503, code: "agent_unavailable", message: "agent \"\(name)\" is not connected (sloth agent list)")
        }
        try audit(request, "agent.run", name, detail: body.command)
        return .json(ControlAPI.AgentCommandStarted(id: id), status: 202)
    }

    func agentCommandOutput(_ id: String, _ request: ControlRequest) async throws -> ControlResponse {
        let wait = min(Int(request.query["wait"] ?? "0") ?? 0, 30_000)
        guard let page = await agentCommands?.page(id, after: Int(request.query["after"] ?? "0") ?? 0, waitMillis: wait) else {
            throw BadRequest(status: 404, code: "not_found", message: "no agent command \(id)")
        }
        return .json(ControlAPI.AgentCommandOutput(chunks: page.chunks.map { .init(stderr: $0.stderr, text: $0.text) }, next: page.next,
                                                   finished: page.finished, exit_code: page.exitCode, error: page.error))
    }

    private func wire(_ agent: AgentStore.Agent) -> ControlAPI.Agent {
        let live = agentHub?.live(agent.name)
        let lastSeen = live.map { clock.nowMillis() - $0.lastSeenMillisAgo } ?? agent.lastSeenAt
        return ControlAPI.Agent(name: agent.name, status: live == nil ? "disconnected" : "connected", address: agent.address, tags: agent.tags,
                                running: live?.running ?? 0, last_seen: preciseTime(lastSeen), version: agent.version,
                                registered_at: preciseTime(agent.registeredAt))
    }

    func wire(_ token: AgentStore.Token) -> ControlAPI.AgentToken {
        ControlAPI.AgentToken(id: token.id, name: token.name, created_at: preciseTime(token.createdAt),
                              revoked_at: token.revokedAt.map(preciseTime), last_used_at: token.lastUsedAt.map(preciseTime), token: nil)
    }
}

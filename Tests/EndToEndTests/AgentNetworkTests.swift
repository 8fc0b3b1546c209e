import Foundation
import Testing

/// A master and an agent in network namespaces the test makes, so the agent can be cut off the network
/// (its link down) while it keeps running — the case SIGSTOP only imitates.
@Suite("Agents: cut off by the network", .serialized, .enabled(if: getuid() == 0, "needs root to create network namespaces"))
struct AgentNetworkTests {
    private func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test("an agent whose link goes down is lost after 15 s of silence; when the link is back, its stale task is cancelled")
    func cutOffAgentIsLostThenItsStaleTaskCancelled() async throws {
        let network = try TestNetwork.make()
        let master = try AgentMaster(listen: "\(network.masterAddress):50053", wrapper: network.inside(network.master))
        #expect(master.daemon.log.contains("without TLS"), "a listener off loopback without TLS is warned about: \(master.daemon.log)")
        let agent = try await master.agent("web-01", wrapper: network.inside(network.agent))
        let (runID, pid) = try await master.startSleepingTask(named: "stuck", on: "web-01", seconds: 120)
        try network.cutAgent()
        _ = try await master.daemon.sloth(["runs", "logs", String(runID), "--follow"])
        let shown = json(try await master.daemon.sloth(["runs", "show", String(runID), "-o", "json"]).stdout)
        #expect((shown.at("tasks.stuck.error") as? String ?? "").hasPrefix("agent_lost: agent web-01 was silent for 15 s"), "\(shown)")
        #expect(kill(pid, 0) == 0, "cut off, the agent's job still runs")
        try network.restoreAgent()
        #expect(agent.waitUntilConnected(timeout: 45), "the agent reconnects once its link is back: \(agent.log)")
        #expect(try await AgentMaster.gone(pid), "the stale task still runs on the agent: \(agent.log)")
    }
}

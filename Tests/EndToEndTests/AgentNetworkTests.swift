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
        let pidFile = master.daemon.directory.appendingPathComponent("job.pid").path
        try await master.add("stuck", """
            task("stuck"):command(function() exec.run("echo $$ > \(pidFile); exec sleep 120"); return true end)
              :delegate_to("web-01"):build()
            """)
        let started = json(try await master.daemon.sloth(["run", "stuck", "--detach", "-o", "json"]).stdout)
        let runID = try #require(started["id"] as? Int)
        let pidText = try await CLI.shell("for i in $(seq 200); do [ -s \(pidFile) ] && { cat \(pidFile); exit 0; }; sleep 0.05; done")
        let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)), "the job never started")
        try network.cutAgent()
        _ = try await master.daemon.sloth(["runs", "logs", String(runID), "--follow"])
        let shown = json(try await master.daemon.sloth(["runs", "show", String(runID), "-o", "json"]).stdout)
        #expect((shown.at("tasks.stuck.error") as? String ?? "").hasPrefix("agent_lost: agent web-01 was silent for 15 s"), "\(shown)")
        #expect(kill(pid, 0) == 0, "cut off, the agent's job still runs")
        try network.restoreAgent()
        #expect(agent.waitUntilConnected(timeout: 45), "the agent reconnects once its link is back: \(agent.log)")
        let gone = try await CLI.shell("for i in $(seq 100); do kill -0 \(pid) 2>/dev/null || { echo gone; exit 0; }; sleep 0.1; done; echo alive")
        #expect(gone.contains("gone"), "the stale task still runs on the agent: \(agent.log)")
    }
}

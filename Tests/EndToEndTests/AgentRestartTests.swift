import Foundation
import Testing

/// A master that restarts while its agents work (SPEC section 8): the tasks keep running on the agents,
/// which reconnect and report them, and each result is recorded once on its run.
@Suite("Agents: the master restarts mid-task", .serialized)
struct AgentRestartTests {
    private func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// A delegated task that writes its job's pid, waits for `gate` to exist, then prints and returns.
    private func gated(_ master: AgentMaster) async throws -> (pidFile: String, gate: String) {
        let pidFile = master.daemon.directory.appendingPathComponent("job.pid").path
        let gate = master.daemon.directory.appendingPathComponent("gate").path
        try await master.add("deploy", """
            task("build"):command(function()
              local r = exec.run("echo $$ > \(pidFile); while [ ! -e \(gate) ]; do sleep 0.05; done; echo built-after-restart")
              return r.success, "built", { line = r.stdout }
            end):delegate_to("web-01"):build()
            """)
        return (pidFile, gate)
    }

    /// The task's row once the restarted master has recorded it: waits (long-polling the run's log) for
    /// the line the recording writes, then reads `runs show`.
    private func taskRow(_ master: AgentMaster, run id: Int, _ task: String) async throws -> [String: Any] {
        var after = 0
        for _ in 0..<60 {
            let page = try await CLI.shell("curl -s --unix-socket \(master.daemon.socket) 'http://slothd/v1/runs/\(id)/logs?after=\(after)&wait=1000'")
            if page.contains("reported the task after slothd restarted") { break }
            after = json(page)["next"] as? Int ?? after
        }
        let shown = json(try await master.daemon.sloth(["runs", "show", String(id), "-o", "json"]).stdout)
        return try #require(shown.at("tasks.\(task)") as? [String: Any], "run \(id) never recorded task \(task): \(shown)")
    }

    private func waitForPID(_ path: String) async throws -> pid_t {
        let text = try await CLI.shell("for i in $(seq 200); do [ -s \(path) ] && { cat \(path); exit 0; }; sleep 0.05; done")
        return try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), "the job never started")
    }

    @Test("kill -9 or SIGTERM of the master mid-task: the task finishes on the agent and the restarted master records its result once",
          arguments: [SIGKILL, SIGTERM])
    func masterRestartMidTask(signal: Int32) async throws {
        let master = try AgentMaster(extraArguments: ["--shutdown-grace", "1"])
        let agent = try await master.agent("web-01")
        let (pidFile, gate) = try await gated(master)
        let started = json(try await master.daemon.sloth(["run", "deploy", "--detach", "-o", "json"]).stdout)
        let runID = try #require(started["id"] as? Int)
        let job = try await waitForPID(pidFile)
        master.daemon.signal(signal)
        _ = await master.daemon.exitStatus()
        #expect(kill(job, 0) == 0, "the job on the agent outlives its master")
        let again = try master.restarted()
        #expect(agent.waitUntilConnected(), "the agent reconnects to the restarted master: \(agent.log)")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let row = try await taskRow(again, run: runID, "build")
        #expect(row["status"] as? String == "success", "\(row)")
        #expect(row["agent"] as? String == "web-01")
        #expect(row.at("output.line") as? String == "built-after-restart\n")
        let run = json(try await again.daemon.sloth(["runs", "show", String(runID), "-o", "json"]).stdout)
        #expect(run["state"] as? String == "interrupted", "the master's part of the run ended with it")
        let logs = try await again.daemon.sloth(["runs", "logs", String(runID)]).stdout
        #expect(logs.components(separatedBy: "reported the task after slothd restarted").count == 2, "recorded once: \(logs)")
        #expect(!agent.log.contains("cancelled"), "the agent was never told to stop the task: \(agent.log)")
    }

    @Test("an agent back after the master restarted without the task it held has that task lost at once, not after the wait")
    func agentBackWithoutTheTask() async throws {
        let master = try AgentMaster()
        let agent = try await master.agent("web-01")
        let (pidFile, _) = try await gated(master)
        let started = json(try await master.daemon.sloth(["run", "deploy", "--detach", "-o", "json"]).stdout)
        let runID = try #require(started["id"] as? Int)
        _ = try await waitForPID(pidFile)
        master.daemon.signal(SIGKILL)
        _ = await master.daemon.exitStatus()
        agent.signal(SIGKILL)
        _ = await agent.exitStatus()
        let again = try master.restarted()
        let token = try await again.token(for: "web-01")
        let back = try AgentProcess(name: "web-01", master: again.address, token: token)
        #expect(back.waitUntilConnected())
        let row = try await taskRow(again, run: runID, "build")
        #expect(row["status"] as? String == "failed")
        #expect((row["error"] as? String ?? "").contains("agent_lost: agent web-01 reconnected without the task"), "\(row)")
    }
}

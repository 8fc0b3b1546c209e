import Foundation
import Testing

/// Agents as real processes: a master slothd and `slothd agent`s on loopback (SPEC section 8).
@Suite("Agents: delegation to real agent processes", .serialized)
struct AgentDaemonTests {
    static let fanOut = """
        local build = task("build")
          :command(function(this, params)
            local r = exec.run("echo built on $(hostname)")
            return true, "ok", { artifact = "app-" .. tostring(params.version), line = r.stdout }
          end)
          :delegate_to("db-01")
          :build()
        local check = task("check")
          :command(function() return true, "ok", { healthy = true } end)
          :delegate_to({ tags = { role = "web" } })
          :build()
        local report = task("report")
          :depends_on({ "build", "check" })
          :command(function(this, params, deps)
            log.info("report: " .. deps.build.artifact .. " healthy=" .. tostring(deps.check.healthy))
            return true, "ok", { summary = deps.build.artifact .. "/" .. tostring(deps.check.healthy) }
          end)
          :build()
        workflow.define("fanout", { tasks = { build, check, report } })
        """

    private func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test("delegation by name and by tags; two delegated outputs feed a local task; runs show names each task's agent")
    func delegationByNameAndTags() async throws {
        let master = try AgentMaster()
        let web1 = try await master.agent("web-01", tags: ["role=web"])
        let web2 = try await master.agent("web-02", tags: ["role=web"])
        let db = try await master.agent("db-01", tags: ["role=db"])
        try await master.add("fanout", Self.fanOut)
        let ran = try await master.daemon.sloth(["run", "fanout", "--param", "version=7", "-o", "json"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let document = json(ran.stdout)
        #expect(document.at("tasks.build.agent") as? String == "db-01")
        #expect(["web-01", "web-02"].contains(document.at("tasks.check.agent") as? String ?? ""))
        #expect(document.at("tasks.report.agent") == nil)
        #expect(document.at("outputs.report.summary") as? String == "app-7/true")
        let runID = try #require(document["run_id"] as? Int)
        let shown = try await master.daemon.sloth(["runs", "show", String(runID)])
        #expect(shown.stdout.contains("AGENT") && shown.stdout.contains("db-01"))
        let logs = try await master.daemon.sloth(["runs", "logs", String(runID)])
        #expect(logs.stdout.contains("delegated to agent db-01 (named)"))
        #expect(logs.stdout.contains("built on"), "job output from the agent is in the run's log")
        let list = try await master.daemon.sloth(["agent", "list", "-o", "json"])
        let agents = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(agents.map { $0["name"] as? String } == ["db-01", "web-01", "web-02"])
        #expect(agents.allSatisfy { $0["status"] as? String == "connected" })
        let status = json(try await master.daemon.sloth(["status", "-o", "json"]).stdout)
        #expect(status["agents_connected"] as? Int == 3)
        _ = (web1, web2, db)
    }

    @Test("sloth run -f FILE --delegate-to AGENT runs the file through slothd, its tasks on that agent")
    func fileRunThroughTheDaemon() async throws {
        let master = try AgentMaster()
        let agent = try await master.agent("web-01")
        let file = master.daemon.directory.appendingPathComponent("adhoc.sloth")
        try """
            task("where"):command(function(this, params) return true, "ok", { greeting = "hello " .. tostring(values.who) } end):build()
            """.write(to: file, atomically: true, encoding: .utf8)
        let values = master.daemon.directory.appendingPathComponent("values.yaml")
        try "who: agents\n".write(to: values, atomically: true, encoding: .utf8)
        let ran = try await master.daemon.sloth(["run", "-f", file.path, "--values", values.path, "--delegate-to", "web-01", "-o", "json"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(json(ran.stdout).at("tasks.where.agent") as? String == "web-01")
        #expect(json(ran.stdout).at("outputs.where.greeting") as? String == "hello agents")
        let broken = master.daemon.directory.appendingPathComponent("broken.sloth")
        try "task('x'):command(function() return true end\n".write(to: broken, atomically: true, encoding: .utf8)
        let refused = try await master.daemon.sloth(["run", "-f", broken.path, "--delegate-to", "web-01"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("broken.sloth:"), "\(refused.stderr)")
        _ = agent
    }

    @Test("no eligible agent: the task fails as agent_unavailable and never runs on the master")
    func noEligibleAgent() async throws {
        let master = try AgentMaster()
        let marker = master.daemon.directory.appendingPathComponent("ran-here").path
        try await master.add("nowhere", """
            task("t"):command(function() exec.run("touch \(marker)"); return true end):delegate_to({ tags = { role = "gpu" } }):build()
            """)
        let ran = try await master.daemon.sloth(["run", "nowhere", "-o", "json"])
        #expect(ran.status == 3)
        #expect((json(ran.stdout).at("tasks.t.error") as? String ?? "").hasPrefix("agent_unavailable: no eligible agent for agents tagged role=gpu"))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("a secret read on the agent is masked everywhere and never written in the agent's state directory; state goes to the master")
    func secretsAndStateFromTheMaster() async throws {
        let master = try AgentMaster()
        let agent = try await master.agent("web-01")
        let secret = "s3cr3t-" + UUID().uuidString.prefix(8)
        #expect(try await master.daemon.sloth(["secrets", "set", "api_key"], stdin: secret + "\n").status == 0)
        try await master.add("uses_secret", """
            task("remote"):command(function()
              local key = secrets.get("api_key")
              exec.run("echo key is " .. key)
              state.set("seen", 40)
              return true, "ok", { n = state.increment("seen", 2), key = key }
            end):delegate_to("web-01"):build()
            """)
        let ran = try await master.daemon.sloth(["run", "uses_secret", "-o", "json"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(json(ran.stdout).at("outputs.remote.n") as? Int == 42)
        #expect(json(ran.stdout).at("outputs.remote.key") as? String == "***")
        let runID = try #require(json(ran.stdout)["run_id"] as? Int)
        let logs = try await master.daemon.sloth(["runs", "logs", String(runID)])
        #expect(logs.stdout.contains("key is ***") && !logs.stdout.contains(secret))
        #expect(try await master.daemon.sloth(["state", "get", "seen"]).stdout.contains("42"))
        let onDisk = try await CLI.shell("grep -rl '\(secret)' \(agent.stateDirectory) \(agent.logPath) || true")
        #expect(onDisk.isEmpty, "the secret is on the agent's disk: \(onDisk)")
    }

    @Test("kill -9 of the agent mid-task: agent_lost, and the retry runs on the other web agent")
    func agentKilledMidTask() async throws {
        let master = try AgentMaster()
        let first = try await master.agent("web-01", tags: ["role=web"])
        // The first attempt waits for `go`; the test makes it only once web-01 holds the task.
        let go = master.daemon.directory.appendingPathComponent("go").path
        try await master.add("slow", """
            task("slow"):command(function() exec.run("[ -f \(go) ] || sleep 30"); return true, "ok", {} end)
              :delegate_to({ tags = { role = "web" } }):retries(1):build()
            """)
        let started = try await master.daemon.sloth(["run", "slow", "--detach", "-o", "json"])
        let runID = try #require(json(started.stdout)["id"] as? Int, "\(started.stdout) \(started.stderr)")
        try await waitForLog(master, runID, "delegated to agent web-01")
        let second = try await master.agent("web-02", tags: ["role=web"])
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        first.signal(SIGKILL)
        _ = await first.exitStatus()
        let ended = try await master.daemon.sloth(["runs", "logs", String(runID), "--follow"])
        #expect(ended.stdout.contains("agent_lost: agent web-01"), "\(ended.stdout)")
        #expect(ended.stdout.contains("delegated to agent web-02"))
        let shown = json(try await master.daemon.sloth(["runs", "show", String(runID), "-o", "json"]).stdout)
        #expect(shown["state"] as? String == "succeeded")
        #expect(shown.at("tasks.slow.agent") as? String == "web-02")
        _ = second
    }

    @Test("live lines from the agent reach runs logs while the task runs; sloth.agent, facts, /metrics and agent hooks see the agents")
    func liveLogsAndWhatSeesAgents() async throws {
        let master = try AgentMaster()
        let hookOut = master.daemon.directory.appendingPathComponent("hook.out").path
        let hook = master.daemon.directory.appendingPathComponent("hook.lua")
        try """
            function on_event()
              local f = io.open("\(hookOut)", "a")
              f:write(event.type .. " " .. event.agent.name .. " " .. tostring(event.agent.tags.role) .. "\\n")
              f:close()
            end
            """.write(to: hook, atomically: true, encoding: .utf8)
        #expect(try await master.daemon.sloth(["hook", "add", "seen", "--event", "agent.connected", "--script", hook.path]).status == 0)
        // The agent's host has nginx installed and running, as its fake dpkg-query and systemctl say, and
        // an incus that logs what it is asked.
        let fakes = master.daemon.directory.appendingPathComponent("agent-bin")
        try FileManager.default.createDirectory(at: fakes, withIntermediateDirectories: true)
        for (tool, script) in [("dpkg-query", "printf 'install ok installed\\t1.24.0-fake'"),
                               ("systemctl", "printf 'ActiveState=active\\nSubState=running\\nUnitFileState=enabled\\nMainPID=42\\n'"),
                               ("incus", "[ \"$1\" = info ] && exit 1; echo \"incus $*\" >> \(fakes.path)/incus.log")] {
            let path = fakes.appendingPathComponent(tool).path
            try "#!/bin/sh\n\(script)\n".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let path = "PATH=\(fakes.path):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"
        let agent = try await master.agent("web-01", tags: ["role=web"], wrapper: ["/usr/bin/env", path])
        let go = master.daemon.directory.appendingPathComponent("go").path
        try await master.add("live", """
            task("talk"):command(function()
              exec.run("echo first-line; while [ ! -f \(go) ]; do sleep 0.05; done; echo second-line")
              return true
            end):delegate_to("web-01"):build()
            task("inventory"):depends_on({ "talk" }):command(function()
              local agents = sloth.agent.list()
              local nginx = facts.get_package({ agent = "web-01", name = "nginx" })
              local service = facts.get_service({ agent = "web-01", name = "nginx" })
              local memory = facts.get_memory({ agent = "web-01" })
              local launched = assert(incus.instance("web-02"):image("debian/12"):delegate_to("web-01"):launch())
              return true, "ok", { count = #agents, os = facts.get_platform({ agent = "web-01" }).os, cores = facts.gather().cpu.cores,
                                   nginx = nginx.installed and nginx.version, nginx_status = service.status,
                                   memory_ok = memory.total > 0 and memory.used_percent > 0 and memory.used_percent < 100,
                                   launched = launched.changed }
            end):build()
            """)
        let started = json(try await master.daemon.sloth(["run", "live", "--detach", "-o", "json"]).stdout)
        let runID = try #require(started["id"] as? Int)
        try await waitForLog(master, runID, "first-line")
        let before = try await master.daemon.sloth(["runs", "logs", String(runID)])
        #expect(!before.stdout.contains("second-line"), "the first line arrived only when the task ended")
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        _ = try await master.daemon.sloth(["runs", "logs", String(runID), "--follow"])
        let shown = json(try await master.daemon.sloth(["runs", "show", String(runID), "-o", "json"]).stdout)
        #expect(shown["state"] as? String == "succeeded", "\(shown)")
        #expect(shown.at("tasks.inventory.output.count") as? Int == 1)
        #expect(shown.at("tasks.inventory.output.os") as? String == "linux")
        #expect((shown.at("tasks.inventory.output.cores") as? Int ?? 0) >= 1)
        #expect(shown.at("tasks.inventory.output.nginx") as? String == "1.24.0-fake", "the agent's package manager answered")
        #expect(shown.at("tasks.inventory.output.nginx_status") as? String == "active")
        #expect(shown.at("tasks.inventory.output.memory_ok") as? Bool == true)
        #expect(shown.at("tasks.inventory.output.launched") as? Bool == true)
        let incusLog = (try? String(contentsOfFile: fakes.appendingPathComponent("incus.log").path, encoding: .utf8)) ?? ""
        #expect(incusLog == "incus launch debian/12 web-02\n", "the launch ran on the agent: \(incusLog)")
        let metrics = try await CLI.shell("curl -s --unix-socket \(master.daemon.socket) http://slothd/metrics")
        #expect(metrics.contains("slothd_agents_connected 1"))
        // "talk", the four facts calls and the launch, each a task on the agent.
        #expect(metrics.contains("slothd_delegated_tasks_total{outcome=\"succeeded\"} 6"), "\(metrics)")
        #expect(metrics.contains("slothd_delegated_task_round_trip_seconds_count 6"))
        let hooked = try await CLI.shell("for i in $(seq 100); do [ -s \(hookOut) ] && break; sleep 0.05; done; cat \(hookOut)")
        #expect(hooked.contains("agent.connected web-01 web"), "\(hooked)")
        _ = agent
    }

    /// Waits until the run's log has `text`: each call long-polls the daemon for new lines, no sleep here.
    private func waitForLog(_ master: AgentMaster, _ runID: Int, _ text: String) async throws {
        var after = 0
        for _ in 0..<60 {
            let page = try await CLI.shell("curl -s --unix-socket \(master.daemon.socket) 'http://slothd/v1/runs/\(runID)/logs?after=\(after)&wait=1000'")
            let decoded = json(page)
            if page.contains(text) { return }
            after = decoded["next"] as? Int ?? after
        }
        Issue.record("the log of run \(runID) never said \"\(text)\"")
    }
}

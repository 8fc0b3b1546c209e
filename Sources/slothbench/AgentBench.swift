import ArgumentParser
import Control
import Foundation

/// Agents (issue 14): a trivial delegated task's round trip beside the same task run locally through
/// the same slothd; the time from `kill -9` of an agent to its task's `agent_lost`; the master's CPU
/// and memory with many idle agents connected, beside the same master with none.
struct AgentBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agents", abstract: "Delegation round trip, loss detection, many agents.")

    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Runs of each kind (local, delegated) for the round-trip figures.") var runs = 200
    @Option(help: "Simulated agents held open at once.") var simulated = 500
    @Option(help: "Seconds over which the master's CPU is measured, idle and with the simulated agents.") var window = 30
    @Option(help: "kill -9 trials for the loss figure.") var lossTrials = 5

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothbench-agents-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let socket = directory.appendingPathComponent("control.sock").path
        let port = try Self.freePort()
        let master = try Self.start(bin.appendingPathComponent("slothd").path, [
            "--state-dir", directory.appendingPathComponent("state").path, "--socket", socket, "--workers", "2",
            "--agents-listen", "127.0.0.1:\(port)",
        ])
        defer { master.terminate(); master.waitUntilExit() }
        let client = ControlClient(socket: socket)
        for _ in 0..<200 where (try? client.get("/status", as: ControlAPI.Status.self)) == nil { usleep(50_000) }
        let idle = try await Self.sample(master.processIdentifier, seconds: window)

        let agentDirectory = directory.appendingPathComponent("agent")
        try FileManager.default.createDirectory(at: agentDirectory, withIntermediateDirectories: true)
        let tokenFile = agentDirectory.appendingPathComponent("token").path
        let created: ControlAPI.AgentToken = try client.post("/agent-tokens", ControlAPI.NewAgentToken(name: "bench-01"))
        FileManager.default.createFile(atPath: tokenFile, contents: Data((created.token ?? "").utf8), attributes: [.posixPermissions: 0o600])
        let agentArguments = ["agent", "--name", "bench-01", "--master", "127.0.0.1:\(port)", "--token-file", tokenFile,
                              "--state-dir", agentDirectory.appendingPathComponent("state").path, "--workers", "2"]
        var agent = try Self.start(bin.appendingPathComponent("slothd").path, agentArguments)
        try Self.waitConnected(client, "bench-01", count: 1)

        for (name, delegate) in [("local", ""), ("delegated", ":delegate_to('bench-01')"), ("sleepy", ":delegate_to('bench-01')")] {
            let body = name == "sleepy" ? "exec.run('sleep 30'); return true" : "return true, 'ok', {n = 1}"
            let _: ControlAPI.Workflow = try client.post("/workflows", ControlAPI.AddWorkflow(
                name: name, content: "task('t'):command(function() \(body) end)\(delegate):build()\n", file: "\(name).sloth",
                description: nil, tags: [], active: true))
        }
        var local: [Double] = [], delegated: [Double] = []
        for index in 0..<(runs * 2) {
            let name = index % 2 == 0 ? "local" : "delegated"
            let started = Date()
            let run: ControlAPI.Run = try client.post("/runs", ControlAPI.StartRun(workflow: name, params: [:], tasks: []))
            try Self.waitFinished(client, run.id)
            let millis = Date().timeIntervalSince(started) * 1000
            if index % 2 == 0 { local.append(millis) } else { delegated.append(millis) }
        }

        var loss: [Double] = []
        for _ in 0..<lossTrials {
            let run: ControlAPI.Run = try client.post("/runs", ControlAPI.StartRun(workflow: "sleepy", params: [:], tasks: []))
            try Self.waitRunning(client, "bench-01")
            usleep(200_000)
            kill(agent.processIdentifier, SIGKILL)
            let killed = Date()
            try Self.waitFinished(client, run.id)
            loss.append(Date().timeIntervalSince(killed) * 1000)
            agent.waitUntilExit()
            agent = try Self.start(bin.appendingPathComponent("slothd").path, agentArguments)
            try Self.waitConnected(client, "bench-01", count: 1)
        }
        agent.terminate()
        agent.waitUntilExit()

        var tokens: [(name: String, token: String)] = []
        for index in 0..<simulated {
            let name = "sim-\(index)"
            let made: ControlAPI.AgentToken = try client.post("/agent-tokens", ControlAPI.NewAgentToken(name: name))
            tokens.append((name, made.token ?? ""))
        }
        let before = DaemonBench.rssKiB(master.processIdentifier)
        let simulator = AgentSimulator(host: "127.0.0.1", port: port, streamsPerConnection: 50)
        let holding = Task { try await simulator.hold(tokens) }
        try Self.waitConnected(client, nil, count: simulated)
        try await Task.sleep(for: .seconds(6))  // every stream past its first heartbeat
        let crowded = try await Self.sample(master.processIdentifier, seconds: window)
        let connected = (try client.get("/status", as: ControlAPI.Status.self)).agents_connected ?? 0
        holding.cancel()

        let report = AgentBenchReport(
            suite: "agents", runs_each: runs,
            local_p50_ms: Self.percentile(local, 50), local_p99_ms: Self.percentile(local, 99),
            delegated_p50_ms: Self.percentile(delegated, 50), delegated_p99_ms: Self.percentile(delegated, 99),
            delegated_over_local_p50: Self.round(Self.percentile(delegated, 50) / Self.percentile(local, 50), 2),
            loss_detection_ms: loss.map { Self.round($0, 0) },
            simulated_agents: simulated, simulated_connected: connected,
            master_cpu_percent_idle: idle.cpuPercent, master_cpu_percent_with_agents: crowded.cpuPercent,
            master_rss_idle_kib: idle.rssKiB, master_rss_before_agents_kib: before, master_rss_with_agents_kib: crowded.rssKiB,
            rss_growth_kib: crowded.rssKiB - before)
        if json {
            try printJSON(report)
        } else {
            print("round trip p50/p99: local \(report.local_p50_ms)/\(report.local_p99_ms) ms, delegated \(report.delegated_p50_ms)/\(report.delegated_p99_ms) ms (\(report.delegated_over_local_p50)×)")
            print("kill -9 → agent_lost: \(report.loss_detection_ms.map { "\(Int($0))" }.joined(separator: ", ")) ms")
            print("\(connected) agents: master CPU \(crowded.cpuPercent) % (idle \(idle.cpuPercent) %), RSS +\(report.rss_growth_kib) KiB")
        }
    }

    static func start(_ binary: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A port nothing listens on now (bound and released; the master binds it a moment later).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw ValidationError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Until `name` (or, with nil, `count` agents) is connected.
    static func waitConnected(_ client: ControlClient, _ name: String?, count: Int) throws {
        for _ in 0..<1200 {
            let agents: [ControlAPI.Agent] = try client.get("/agents")
            let connected = agents.filter { $0.status == "connected" && (name == nil || $0.name == name) }
            if connected.count >= count { return }
            usleep(50_000)
        }
        throw ValidationError("agents did not connect")
    }

    static func waitRunning(_ client: ControlClient, _ name: String) throws {
        for _ in 0..<400 {
            let agent: ControlAPI.Agent = try client.get("/agents/\(name)")
            if agent.running > 0 { return }
            usleep(10_000)
        }
        throw ValidationError("the agent never ran the task")
    }

    /// Long polls of the run's log until it has ended.
    static func waitFinished(_ client: ControlClient, _ id: Int64) throws {
        var after: Int64 = 0
        while true {
            let page: ControlAPI.LogPage = try client.get("/runs/\(id)/logs?after=\(after)&wait=10000")
            if page.finished { return }
            after = page.next
        }
    }

    /// The master's CPU share of one core and its RSS over `seconds`.
    static func sample(_ pid: Int32, seconds: Int) async throws -> (cpuPercent: Double, rssKiB: Int) {
        let start = cpuTicks(pid)
        try await Task.sleep(for: .seconds(seconds))
        let ticks = cpuTicks(pid) - start
        return (round(Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK))) / Double(seconds) * 100, 2), DaemonBench.rssKiB(pid))
    }

    static func cpuTicks(_ pid: Int32) -> Int {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command's closing parenthesis: utime is the 12th, stime the 13th.
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        return fields.count > 12 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
    }

    static func percentile(_ values: [Double], _ p: Int) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return round(sorted[min(sorted.count - 1, sorted.count * p / 100)], 1)
    }

    static func round(_ value: Double, _ digits: Int) -> Double {
        let scale = pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }
}

struct AgentBenchReport: Codable {
    let suite: String
    let runs_each: Int
    let local_p50_ms: Double
    let local_p99_ms: Double
    let delegated_p50_ms: Double
    let delegated_p99_ms: Double
    let delegated_over_local_p50: Double
    let loss_detection_ms: [Double]
    let simulated_agents: Int
    let simulated_connected: Int
    let master_cpu_percent_idle: Double
    let master_cpu_percent_with_agents: Double
    let master_rss_idle_kib: Int
    let master_rss_before_agents_kib: Int
    let master_rss_with_agents_kib: Int
    let rss_growth_kib: Int
}

import Foundation
import TestSupport

/// A real `slothd agent` process beside a master `DaemonProcess`, stopped by PID. READY=1 reaches its
/// NOTIFY_SOCKET each time the master welcomes it, so a test can wait for a (re)connect.
final class AgentProcess: @unchecked Sendable {
    let name: String
    let directory: URL
    let notify: NotifyListener
    private(set) var pid: pid_t = 0
    private var reaped = false
    var stateDirectory: String { directory.appendingPathComponent("state").path }
    var logPath: String { directory.appendingPathComponent("agent.log").path }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// - Parameter wrapper: a command the agent runs under that execs it (`ip netns exec NS`).
    init(name: String, master: String, token: String, tags: [String] = [], extraArguments: [String] = [], tokenMode: mode_t = 0o600,
         wrapper: [String] = []) throws {
        self.name = name
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-agent-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        notify = try NotifyListener(path: directory.appendingPathComponent("notify.sock").path)
        let tokenFile = directory.appendingPathComponent("token").path
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data((token + "\n").utf8))
        chmod(tokenFile, tokenMode)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let argv = wrapper + [DaemonProcess.binary.path, "agent", "--name", name, "--master", master, "--token-file", tokenFile,
                    "--state-dir", stateDirectory] + tags.flatMap { ["--tag", $0] } + extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        pid = try spawnDetached(argv, environment: environment.map { "\($0.key)=\($0.value)" }, stderr: logPath)
    }

    /// The master's welcome (READY=1), within a generous bound.
    func waitUntilConnected(timeout: Double = 20) -> Bool { notify.wait(for: "READY=1", timeout: timeout) != nil }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the process to exit, on a thread of its own; its exit status (128 + signal when killed).
    func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in
                let code = exitCode(of: pid)
                reaped = true
                continuation.resume(returning: code)
            }
        }
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}

/// A master with `--agents-listen 127.0.0.1:0`, the port it bound read from its log.
struct AgentMaster {
    let daemon: DaemonProcess
    let address: String

    init(extraArguments: [String] = [], directory: URL? = nil, listen: String = "127.0.0.1:0", wrapper: [String] = []) throws {
        let earlier = directory.map { Self.bound(in: (try? String(contentsOf: $0.appendingPathComponent("slothd.log"), encoding: .utf8)) ?? "").count } ?? 0
        daemon = try DaemonProcess(directory: directory, extraArguments: ["--agents-listen", listen] + extraArguments, wrapper: wrapper)
        guard daemon.waitUntilReady() != nil else { throw Failure(description: "the master did not start: \(daemon.log)") }
        let deadline = Date(timeIntervalSinceNow: 10)
        var found: String?
        while found == nil && Date() < deadline {
            found = Self.bound(in: daemon.log).dropFirst(earlier).first
            if found == nil { usleep(20_000) }
        }
        guard let found else { throw Failure(description: "the master did not say where agents connect: \(daemon.log)") }
        address = found
    }

    /// Every address a master on this directory said it accepts agents on.
    private static func bound(in log: String) -> [String] {
        log.split(separator: "\n").compactMap { line in line.range(of: "accepting agents on ").map { String(line[$0.upperBound...]) } }
    }

    /// The master started again on its state directory and agents' address, once the previous one exited.
    func restarted() throws -> AgentMaster { try AgentMaster(directory: daemon.directory, listen: address) }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// `sloth agent token create NAME`'s token.
    func token(for name: String) async throws -> String {
        let created = try await daemon.sloth(["agent", "token", "create", name])
        guard created.status == 0 else { throw Failure(description: created.stderr) }
        return created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func agent(_ name: String, tags: [String] = [], extraArguments: [String] = [], wrapper: [String] = []) async throws -> AgentProcess {
        let agent = try AgentProcess(name: name, master: address, token: try await token(for: name), tags: tags, extraArguments: extraArguments,
                                     wrapper: wrapper)
        guard agent.waitUntilConnected() else { throw Failure(description: "agent \(name) did not connect: \(agent.log)") }
        return agent
    }

    /// Starts (detached) a run of one task delegated to `agent` whose job sleeps `seconds`: the run's
    /// id, and the job's pid once it runs on the agent.
    func startSleepingTask(named name: String, on agent: String, seconds: Int) async throws -> (runID: Int, pid: pid_t) {
        let pidFile = daemon.directory.appendingPathComponent("\(name).pid").path
        try await add(name, """
            task("\(name)"):command(function() exec.run("echo $$ > \(pidFile); exec sleep \(seconds)"); return true end)
              :delegate_to("\(agent)"):build()
            """)
        let started = try await daemon.sloth(["run", name, "--detach", "-o", "json"])
        let document = (try? JSONSerialization.jsonObject(with: Data(started.stdout.utf8))) as? [String: Any] ?? [:]
        guard let runID = document["id"] as? Int else { throw Failure(description: "the run did not start: \(started.stderr)") }
        let text = try await CLI.shell("for i in $(seq 200); do [ -s \(pidFile) ] && { cat \(pidFile); exit 0; }; sleep 0.05; done")
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw Failure(description: "the job never started") }
        return (runID, pid)
    }

    /// Whether `pid` is gone within about `seconds`.
    static func gone(_ pid: pid_t, within seconds: Int = 10) async throws -> Bool {
        try await CLI.shell("for i in $(seq \(seconds * 10)); do kill -0 \(pid) 2>/dev/null || { echo gone; exit 0; }; sleep 0.1; done; echo alive")
            .contains("gone")
    }

    /// Adds the workflow `source` as NAME to the catalog.
    func add(_ name: String, _ source: String) async throws {
        let file = daemon.directory.appendingPathComponent("\(name).sloth")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let added = try await daemon.sloth(["workflow", "add", name, "--file", file.path])
        guard added.status == 0 else { throw Failure(description: added.stderr) }
    }
}

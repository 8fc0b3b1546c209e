import Foundation
import GRDB
import Testing

/// What slothd and sloth do after damage: a full disk, a broken runtime cache, a full queue, a timeout.
@Suite("recovery end to end", .serialized)
struct RecoveryTests {
    static func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// Polls `probe` until it returns a value, or gives nil after `seconds`.
    static func eventually<T>(seconds: Double = 20, _ probe: () async throws -> T?) async throws -> T? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = try await probe() { return value }
            try await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    @Test("a full disk: fires wait and are retried, status says the database is not writable, then they are recorded",
          .enabled(if: getuid() == 0, "needs root for a private tmpfs"))
    func fullDisk() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-full-\(UUID().uuidString.prefix(8))")
        let state = directory.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        // The state directory is a 4 MiB tmpfs that only the daemon's mount namespace sees.
        let daemon = try DaemonProcess(directory: directory, wrapper: [
            "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
            "mount -t tmpfs -o size=4m tmpfs \"$0\" && exec \"$@\"", state,
        ])
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "tick", "task('t'):command(function() return true end):build()\n")
        #expect(try await daemon.sloth(["scheduler", "add", "every", "--workflow", "tick", "--cron", "* * * * * *"]).status == 0)
        _ = try await Self.eventually { try await SchedulerDaemonTests.runs(daemon, "every").count >= 2 ? true : nil }

        let fill = "\(state)/filler"
        _ = try await CLI.shell("nsenter -t \(daemon.pid) -m dd if=/dev/zero of=\(fill) bs=64k 2>/dev/null; true")
        let problem = try await Self.eventually { () -> String? in
            let status = Self.json(try await daemon.sloth(["status", "-o", "json"]).stdout) as? [String: Any]
            return status?["database_problem"] as? String
        }
        #expect(problem != nil, "status names the database problem while the disk is full")
        let before = try await SchedulerDaemonTests.runs(daemon, "every").count

        _ = try await CLI.shell("nsenter -t \(daemon.pid) -m rm -f \(fill)")
        let recovered = try await Self.eventually { () -> Bool? in
            let status = Self.json(try await daemon.sloth(["status", "-o", "json"]).stdout) as? [String: Any]
            return status?["database_problem"] == nil ? true : nil
        }
        #expect(recovered == true)
        let after = try await Self.eventually { () -> [SchedulerDaemonTests.Run]? in
            let runs = try await SchedulerDaemonTests.runs(daemon, "every")
            return runs.count > before ? runs : nil
        }
        #expect(after != nil, "fires are recorded again once the disk has room")
        let nominal = (after ?? []).compactMap(\.nominal_at)
        #expect(Set(nominal).count == nominal.count, "no fire twice")
        daemon.signal(SIGTERM)
        _ = await daemon.exitStatus()
    }

    @Test("a damaged runtime cache is rebuilt: the next run works and the cache passes its check again; an earlier build's cache is removed")
    func damagedRuntimeCache() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-cache-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let environment = ["SLOTHD_STATE_DIR": directory.path]
        let file = directory.appendingPathComponent("ok.sloth").path
        try "task('t'):command(function() return true, 'ok', {n = 1} end):build()\n".write(toFile: file, atomically: true, encoding: .utf8)
        let cache = directory.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let stale = cache.appendingPathComponent("runtime-Lua_5.4.0-504-0123456789abcdef-dsl.luac").path
        FileManager.default.createFile(atPath: stale, contents: Data("an earlier build's".utf8))
        #expect(try await CLI.run(["run", "-f", file], environment: environment).status == 0)
        #expect(!FileManager.default.fileExists(atPath: stale), "an earlier build's cache is removed")
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".luac") }
        #expect(entries.count == 1, "one cache file holds every part: \(entries)")
        let path = cache.appendingPathComponent(try #require(entries.first)).path
        for damage in 0..<3 {
            var bytes = Array(FileManager.default.contents(atPath: path) ?? Data())
            switch damage {
            case 0: bytes = Array(bytes.prefix(bytes.count / 2))
            case 1: for position in stride(from: 40, to: bytes.count, by: 7) { bytes[position] ^= 0x5A }
            default: bytes = Array("\u{1B}LuaT garbage".utf8)
            }
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let again = try await CLI.run(["run", "-f", file, "-o", "json"], environment: environment)
            #expect(again.status == 0, "damage \(damage): \(again.stderr)")
            #expect(again.stdout.contains("\"status\":\"success\""))
        }
        #expect(try await CLI.run(["run", "-f", file], environment: environment).status == 0)
    }

    @Test("a run the full queue refuses leaves no run row, only a run.rejected event, and exits 1")
    func refusedRunLeavesNoRow() async throws {
        let daemon = try DaemonProcess(extraArguments: ["--workers", "1", "--queue", "1"])
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "slow", "task('t'):command('sleep 60'):build()\n")
        #expect(try await daemon.sloth(["run", "slow", "--detach"]).status == 0)
        _ = try await Self.eventually { () -> Bool? in
            let runs = Self.json(try await daemon.sloth(["runs", "list", "-o", "json"]).stdout) as? [[String: Any]]
            return runs?.first?["state"] as? String == "running" ? true : nil
        }
        #expect(try await daemon.sloth(["run", "slow", "--detach"]).status == 0, "the second waits in the queue")
        let refused = try await daemon.sloth(["run", "slow", "--detach"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("queue is full"))
        let runs = Self.json(try await daemon.sloth(["runs", "list", "-o", "json"]).stdout) as? [[String: Any]]
        #expect(runs?.count == 2, "only the accepted runs have rows")
        let events = try await daemon.sloth(["events", "list", "--type", "run.rejected", "-o", "json"])
        #expect(events.stdout.contains("run.rejected"))
    }

    @Test("a schedule's --timeout: the run, its event and its result all say timed out")
    func timeoutAgrees() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "hang", "task('t'):command(function() while true do end end):build()\n")
        #expect(try await daemon.sloth(["scheduler", "add", "hang", "--workflow", "hang", "--cron", "@yearly", "--timeout", "1s"]).status == 0)
        #expect(try await daemon.sloth(["scheduler", "trigger", "hang"]).status == 0)
        let run = try await Self.eventually { () -> SchedulerDaemonTests.Run? in
            try await SchedulerDaemonTests.runs(daemon, "hang").first { !["queued", "running"].contains($0.state) }
        }
        #expect(run?.state == "timed_out")
        let show = try await daemon.sloth(["runs", "show", String(run?.id ?? 0), "-o", "json"])
        #expect(show.stdout.contains("timed out after 1 s"))
        let events = try await daemon.sloth(["events", "list", "-o", "json"])
        #expect(events.stdout.contains("workflow.timeout"))
        #expect(!events.stdout.contains("workflow.cancelled"))
    }

    @Test("sloth state set and delete are audited with the caller's uid; a secret never lands in state")
    func stateAuditAndSecrets() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await daemon.sloth(["state", "set", "greeting", "hello"]).status == 0)
        #expect(try await daemon.sloth(["state", "delete", "greeting"]).status == 0)
        let database = try DatabaseQueue(path: daemon.stateDirectory + "/slothd.db")
        let actions = try await database.read {
            try String.fetchAll($0, sql: "SELECT action FROM audit WHERE action LIKE 'state.%' AND uid = ? ORDER BY id", arguments: [getuid()])
        }
        #expect(actions == ["state.set", "state.delete"])

        #expect(try await daemon.sloth(["secrets", "set", "token", "--stack", ""], stdin: "s3cr3t-value").status == 0)
        let file = daemon.directory.appendingPathComponent("leak.sloth").path
        try "task('t'):command(function() state.set('copy', {v = secrets.get('token')}) return true end):build()\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let run = try await daemon.sloth(["run", "-f", file, "-o", "json"])
        #expect(run.status == 3)
        #expect(run.stdout.contains("the value contains a secret"))
        let stored = try await database.read { try String.fetchOne($0, sql: "SELECT value_json FROM state WHERE key = 'copy'") }
        #expect(stored == nil)
    }
}

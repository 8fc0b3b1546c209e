import Control
import Foundation
import Testing
import TestSupport

/// The scheduler in the real slothd: one smoke test of a schedule firing on the wall clock (every other
/// schedule behaviour is tested in process on a manual clock: Tests/slothdTests/ScheduleServiceTests),
/// `--timeout` and the refusals of bad schedules. Waits are on runs, never on the clock.
@Suite("slothd scheduler end to end", .serialized)
struct SchedulerDaemonTests {
    struct Run: Decodable {
        var id: Int64
        var trigger: String
        var state: String
        var nominal_at: String?
    }

    static func runs(_ daemon: DaemonProcess, _ schedule: String) async throws -> [Run] {
        let listed = try await daemon.sloth(["runs", "list", "--schedule", schedule, "--limit", "1000", "-o", "json"])
        return try JSONDecoder().decode([Run].self, from: Data(listed.stdout.utf8))
    }

    /// Waits for a run's end as an operator does: `sloth runs logs ID --follow` returns when the run has
    /// ended (the daemon rings a bell then), never on a timer. Gives the run as recorded.
    static func ended(_ daemon: DaemonProcess, _ id: Int64) async throws -> Run {
        _ = try await daemon.sloth(["runs", "logs", String(id), "--follow"])
        let shown = try await daemon.sloth(["runs", "show", String(id), "-o", "json"])
        return try JSONDecoder().decode(Run.self, from: Data(shown.stdout.utf8))
    }

    /// `sloth scheduler trigger NAME`: the run it queued.
    static func trigger(_ daemon: DaemonProcess, _ schedule: String) async throws -> Run {
        let triggered = try await daemon.sloth(["scheduler", "trigger", schedule, "-o", "json"])
        #expect(triggered.status == 0, "\(triggered.stderr)")
        return try JSONDecoder().decode(Run.self, from: Data(triggered.stdout.utf8))
    }

    static func workflow(_ daemon: DaemonProcess, _ name: String, _ source: String) async throws {
        let file = daemon.directory.appendingPathComponent("\(name).sloth").path
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["workflow", "add", name, "--file", file]).status == 0)
    }

    @Test("smoke: a per-second schedule fires in the real daemon, each nominal time once; disable says why; trigger runs now")
    func perSecond() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        // Each run tells the test through a FIFO that it ran: the test waits on the run, not on the clock.
        let ran = try RunSignal(in: daemon.directory)
        try await Self.workflow(daemon, "quick", "task('t'):command(function() exec.run('echo go > \(ran.path)') end)\n")
        #expect(try await daemon.sloth(["scheduler", "add", "every", "--workflow", "quick", "--cron", "* * * * * *", "--tz", "UTC"]).status == 0)
        for _ in 1...2 { await ran.next() }
        #expect(try await daemon.sloth(["scheduler", "disable", "every", "--note", "maintenance"]).status == 0)
        let fired = try await Self.runs(daemon, "every").filter { $0.state != "skipped" }
        let nominal = fired.compactMap(\.nominal_at)
        #expect(fired.count >= 2 && fired.allSatisfy { $0.trigger == "schedule" })
        #expect(Set(nominal).count == nominal.count, "each nominal time fires once")
        let metrics = try HTTPClient(unixSocket: daemon.socket, timeoutSeconds: 10).get("http://slothd/metrics").text
        #expect(metrics.contains("slothd_schedule_fired_total{schedule=\"every\"}"))
        #expect(metrics.contains("slothd_schedule_lateness_seconds_count"))
        #expect(try await daemon.sloth(["scheduler", "list"]).stdout.contains("disabled (maintenance)"))
        let shown = try await daemon.sloth(["scheduler", "show", "every"]).stdout
        #expect(shown.contains("LAG") && shown.contains("blocked since slothd started"))

        let manual = try await Self.ended(daemon, try await Self.trigger(daemon, "every").id)
        await ran.next()
        #expect(manual.trigger == "manual" && manual.state == "succeeded" && manual.nominal_at == nil)
    }

    @Test("--timeout cancels a run that outlives it: recorded timed_out, its process gone")
    func timeout() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await Self.workflow(daemon, "hang", "task('t'):command(function() exec.run('sleep 383') end)\n")
        #expect(try await daemon.sloth(["scheduler", "add", "hang", "--workflow", "hang", "--cron", "0 3 * * *", "--timeout", "1s"]).status == 0)
        let ended = try await Self.ended(daemon, try await Self.trigger(daemon, "hang").id)
        #expect(ended.state == "timed_out")
        #expect(try await CLI.shell("pgrep -f 'slee[p] 383' || true").isEmpty)
    }

    @Test("bad schedules are refused with exit 2 and the reason; nothing is stored")
    func badInput() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await Self.workflow(daemon, "quick", "task('t'):command(function() return true end)\n")
        let cases: [(arguments: [String], message: String)] = [
            (["--cron", "61 * * * *"], "invalid cron expression \"61 * * * *\""),
            (["--cron", "0 0 30 2 *"], "never fires"),
            (["--cron", "0 2 * * *", "--tz", "Mars/Olympus"], "unknown time zone \"Mars/Olympus\""),
            (["--cron", "0 2 * * *", "--overlap", "sometimes"], "invalid --overlap \"sometimes\""),
            (["--cron", "0 2 * * *", "--jitter", "5x"], "invalid --jitter \"5x\""),
        ]
        for (arguments, message) in cases {
            let result = try await daemon.sloth(["scheduler", "add", "bad", "--workflow", "quick"] + arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let unknown = try await daemon.sloth(["scheduler", "add", "bad", "--workflow", "nope", "--cron", "0 2 * * *"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no workflow named \"nope\""))
        #expect(try await daemon.sloth(["scheduler", "add", "good", "--workflow", "quick", "--cron", "0 2 * * *"]).status == 0)
        let duplicate = try await daemon.sloth(["scheduler", "add", "good", "--workflow", "quick", "--cron", "0 3 * * *"])
        #expect(duplicate.status == 2)
        #expect(try await daemon.sloth(["scheduler", "show", "missing"]).status == 2)
        let listed = try await daemon.sloth(["scheduler", "list", "-o", "json"])
        #expect(listed.stdout.contains("\"name\":\"good\"") && !listed.stdout.contains("\"name\":\"bad\""))
        #expect(listed.stdout.contains("\"cron\":\"0 2 * * *\""))
    }
}

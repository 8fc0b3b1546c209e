import Control
import Foundation
import Testing

/// The scheduler with the real slothd and the wall clock: per-second schedules keep each test to a few
/// seconds, and every wait polls with a deadline.
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

    /// Polls until `condition` holds for the schedule's runs, or fails after `seconds`.
    static func waitForRuns(_ daemon: DaemonProcess, _ schedule: String, seconds: Double = 15,
                            until condition: ([Run]) -> Bool) async throws -> [Run] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let found = try await runs(daemon, schedule)
            if condition(found) || Date() > deadline { return found }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func workflow(_ daemon: DaemonProcess, _ name: String, _ source: String) async throws {
        let file = daemon.directory.appendingPathComponent("\(name).sloth").path
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["workflow", "add", name, "--file", file]).status == 0)
    }

    @Test("a per-second schedule fires once per second, on time; disable stops it; trigger runs now")
    func perSecond() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await Self.workflow(daemon, "quick", "task('t'):command(function() return true end)\n")
        #expect(try await daemon.sloth(["scheduler", "add", "every", "--workflow", "quick", "--cron", "* * * * * *", "--tz", "UTC"]).status == 0)
        let fired = try await Self.waitForRuns(daemon, "every") { $0.filter { $0.state == "succeeded" }.count >= 4 }
        let nominal = fired.compactMap(\.nominal_at)
        #expect(fired.count >= 4)
        #expect(Set(nominal).count == nominal.count, "each nominal time fires once")
        #expect(fired.allSatisfy { $0.trigger == "schedule" })

        let metrics = try HTTPClient(unixSocket: daemon.socket, timeoutSeconds: 10).get("http://slothd/metrics").text
        let onTime = Self.metric(metrics, "slothd_schedule_lateness_seconds_bucket{le=\"0.5\"}")
        let all = Self.metric(metrics, "slothd_schedule_lateness_seconds_count")
        #expect(all >= 4 && onTime == all, "every start within 0.5 s of its nominal time")
        #expect(metrics.contains("slothd_schedule_fired_total{schedule=\"every\"}"))

        #expect(try await daemon.sloth(["scheduler", "disable", "every", "--note", "maintenance"]).status == 0)
        let stopped = try await Self.runs(daemon, "every").count
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await Self.runs(daemon, "every").count == stopped, "a disabled schedule does not fire")
        let list = try await daemon.sloth(["scheduler", "list"])
        #expect(list.stdout.contains("disabled (maintenance)"))

        let trigger = try await daemon.sloth(["scheduler", "trigger", "every", "-o", "json"])
        #expect(trigger.status == 0)
        let manual = try await Self.waitForRuns(daemon, "every") { $0.contains { $0.trigger == "manual" && $0.state == "succeeded" } }
        #expect(manual.contains { $0.trigger == "manual" && $0.state == "succeeded" && $0.nominal_at == nil })
    }

    @Test("overlap skip never runs two at once; the fires in between are recorded skipped")
    func overlapSkip() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let trace = daemon.directory.appendingPathComponent("trace").path
        try await Self.workflow(daemon, "slow", "task('t'):command(function() exec.run('echo start >> \(trace); sleep 1.6; echo end >> \(trace)') end)\n")
        #expect(try await daemon.sloth(["scheduler", "add", "slow", "--workflow", "slow", "--cron", "* * * * * *", "--overlap", "skip"]).status == 0)
        let seen = try await Self.waitForRuns(daemon, "slow") { runs in
            runs.filter { $0.state == "succeeded" }.count >= 2 && runs.contains { $0.state == "skipped" }
        }
        #expect(seen.contains { $0.state == "skipped" })
        #expect(try await daemon.sloth(["scheduler", "remove", "slow"]).status == 0)
        _ = try await Self.waitForRuns(daemon, "slow", seconds: 5) { !$0.contains { $0.state == "running" || $0.state == "queued" } }
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 4)
        #expect(lines.enumerated().allSatisfy { $0.element == ($0.offset % 2 == 0 ? "start" : "end") }, "runs never overlap: \(lines)")
    }

    @Test("--timeout cancels a run that outlives it: recorded timed_out, its process gone")
    func timeout() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await Self.workflow(daemon, "hang", "task('t'):command(function() exec.run('sleep 383') end)\n")
        #expect(try await daemon.sloth(["scheduler", "add", "hang", "--workflow", "hang", "--cron", "0 3 * * *", "--timeout", "1s"]).status == 0)
        #expect(try await daemon.sloth(["scheduler", "trigger", "hang"]).status == 0)
        let ended = try await Self.waitForRuns(daemon, "hang", seconds: 20) { $0.contains { $0.state == "timed_out" } }
        #expect(ended.first?.state == "timed_out")
        #expect(try await CLI.shell("pgrep -f 'slee[p] 383' || true").isEmpty)
    }

    @Test("overlap cancel-other: each fire cancels the run before it")
    func cancelOther() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await Self.workflow(daemon, "long", "task('t'):command(function() exec.run('sleep 385') end)\n")
        #expect(try await daemon.sloth(["scheduler", "add", "long", "--workflow", "long", "--cron", "* * * * * *",
                                        "--overlap", "cancel-other"]).status == 0)
        let seen = try await Self.waitForRuns(daemon, "long") { $0.filter { $0.state == "cancelled" }.count >= 2 }
        #expect(seen.filter { $0.state == "cancelled" }.count >= 2)
        #expect(try await daemon.sloth(["scheduler", "remove", "long"]).status == 0)
        for run in try await Self.runs(daemon, "long") where run.state == "running" || run.state == "queued" {
            _ = try await daemon.sloth(["runs", "cancel", String(run.id)])
        }
        _ = try await Self.waitForRuns(daemon, "long", seconds: 10) { !$0.contains { $0.state == "running" || $0.state == "queued" } }
        #expect(try await CLI.shell("pgrep -f 'slee[p] 385' || true").isEmpty)
    }

    @Test("stopped across several fires of a `latest` schedule, a restarted slothd runs exactly one catch-up")
    func catchupAfterDowntime() async throws {
        let first = try DaemonProcess()
        try #require(first.waitUntilReady() != nil)
        try await Self.workflow(first, "quick", "task('t'):command(function() return true end)\n")
        #expect(try await first.sloth(["scheduler", "add", "tick", "--workflow", "quick", "--cron", "* * * * * *", "--catchup", "latest"]).status == 0)
        _ = try await Self.waitForRuns(first, "tick") { $0.count >= 2 }
        first.signal(SIGTERM)
        #expect(await first.exitStatus() == 0)
        try await Task.sleep(for: .milliseconds(3500))
        let second = try DaemonProcess(directory: first.directory)
        try #require(second.waitUntilReady() != nil)
        let after = try await Self.waitForRuns(second, "tick") { $0.contains { $0.trigger == "catchup" && $0.state == "succeeded" } }
        try await Task.sleep(for: .milliseconds(1500))
        let all = try await Self.runs(second, "tick")
        #expect(after.contains { $0.trigger == "catchup" })
        #expect(all.filter { $0.trigger == "catchup" }.count == 1, "one catch-up run for all the missed fires")
        let nominal = all.compactMap(\.nominal_at)
        #expect(Set(nominal).count == nominal.count, "no nominal time runs twice across the restart")
        let show = try await second.sloth(["scheduler", "show", "tick", "-o", "json"])
        let missed = (try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["missed"] as? Int ?? 0
        #expect(missed >= 2)
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

    static func metric(_ text: String, _ name: String) -> Double {
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
    }
}

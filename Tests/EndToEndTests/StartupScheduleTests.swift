import Foundation
import Testing
import TestSupport

/// `@reboot` schedules (SPEC section 6) and the daemon's own log of fires and run ends (SPEC section 7),
/// through restarts of the real slothd.
@Suite("@reboot schedules and the daemon's log", .serialized)
struct StartupScheduleTests {
    static let journal = ["JOURNAL_STREAM": "8:1234"]

    /// SIGTERM, then a new daemon on the same directory, ready.
    static func restart(_ daemon: DaemonProcess) async throws -> DaemonProcess {
        daemon.signal(SIGTERM)
        #expect(await daemon.exitStatus() == 0)
        let next = try DaemonProcess(directory: daemon.directory, environment: journal)
        try #require(next.waitUntilReady() != nil)
        return next
    }

    @Test("an @reboot schedule is accepted, fires exactly once at each start (nominal: the start), not on add")
    func rebootFiresOncePerStart() async throws {
        var daemon = try DaemonProcess(environment: Self.journal)
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "boot", "task('t'):command('true')\n")
        let added = try await daemon.sloth(["scheduler", "add", "boot", "--workflow", "boot", "--cron", "@reboot", "--tz", "UTC"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try await daemon.sloth(["scheduler", "add", "off", "--workflow", "boot", "--cron", "@reboot", "--disabled"]).status == 0)
        #expect(try await daemon.sloth(["scheduler", "list"]).stdout.contains("at slothd start"))
        // Adding fires nothing: the counts below, one run per start, would see a fire at add time.

        var nominal: Set<String> = []
        for start in 1...2 {
            daemon = try await Self.restart(daemon)
            // The start's fire is recorded before READY=1: its run is listed already.
            for run in try await SchedulerDaemonTests.runs(daemon, "boot") { _ = try await SchedulerDaemonTests.ended(daemon, run.id) }
            let runs = try await SchedulerDaemonTests.runs(daemon, "boot")
            #expect(runs.count == start && runs.allSatisfy { $0.state == "succeeded" }, "one run per start")
            #expect(runs.allSatisfy { $0.trigger == "schedule" && $0.nominal_at != nil })
            nominal.formUnion(runs.compactMap(\.nominal_at))
        }
        #expect(nominal.count == 2, "each start is its own fire")
        #expect(try await SchedulerDaemonTests.runs(daemon, "off").isEmpty, "a disabled @reboot schedule does not fire")
        let log = daemon.log
        #expect(log.contains("<6>schedule boot fired (nominal "))
        #expect(log.contains("): run 1 of workflow boot queued\n"))
        #expect(log.contains("<6>run 1 (workflow boot, schedule boot) succeeded after "))
    }

    @Test("the log has one line per fire and per run end, at journald priorities")
    func runEndsAreLogged() async throws {
        let daemon = try DaemonProcess(environment: Self.journal)
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "fails", "task('t'):command(function() error('disk full') end)\n")
        #expect(try await daemon.sloth(["run", "fails"]).status == 3)
        // The job tells the test through a FIFO that a fire's run is running; the test then follows it to its end.
        let ran = try RunSignal(in: daemon.directory)
        try await SchedulerDaemonTests.workflow(daemon, "works", "task('t'):command('echo go > \(ran.path)')\n")
        #expect(try await daemon.sloth(["scheduler", "add", "tick", "--workflow", "works", "--cron", "* * * * * *", "--overlap", "skip"]).status == 0)
        await ran.next()
        for run in try await SchedulerDaemonTests.runs(daemon, "tick") { _ = try await SchedulerDaemonTests.ended(daemon, run.id) }
        #expect(try await daemon.sloth(["scheduler", "remove", "tick"]).status == 0)
        let lines = daemon.log.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("<4>run 1 (workflow fails) failed after ") && $0.hasSuffix("fails.sloth:1: disk full") },
                "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<6>schedule tick fired (nominal ") && $0.hasSuffix("of workflow works queued") })
        #expect(lines.contains { $0.hasPrefix("<6>run ") && $0.contains("(workflow works, schedule tick) succeeded after ") })
    }
}

import Foundation
import Testing
import TestSupport

/// `sloth scheduler list` (sorted like `systemctl list-timers`, one zone per screen) and what `sloth status`
/// shows of the scheduler, against golden files with the times normalised.
@Suite("scheduler list and status", .serialized)
struct ScheduleListCLITests {
    /// Table cells (split on the two-space column gaps) with times and their distances replaced, joined by
    /// " | ": the golden file pins the columns, the order and the footer, whatever the time of the test.
    static func normalised(table text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(separator: /\s\s+/).map { cell in
                if cell.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/) != nil { return "<time>" }
                if cell.wholeMatch(of: /(\d+(d|h|min|s) ?)+ left/) != nil { return "<left>" }
                if cell.wholeMatch(of: /(\d+(d|h|min|s) ?)+ ago/) != nil { return "<ago>" }
                return String(cell)
            }.joined(separator: " | ")
        }.joined(separator: "\n")
    }

    static func normalised(json text: String) -> String {
        text.replacing(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"/, with: "\"<time>\"")
    }

    @Test("by next fire, then @reboot, then disabled; times in UTC with --utc, in TZ otherwise; the JSON in the same order")
    func sortedInOneZone() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "hello", "task('t'):command('true')\n")
        // Listed out of name order; at a tie (a month that starts a half-year) the names keep the same order.
        for (name, cron) in [("d-paused", "@daily"), ("c-yearly", "@yearly"), ("boot", "@reboot"), ("b-half-yearly", "0 0 1 1,7 *"),
                             ("a-monthly", "@monthly")] {
            #expect(try await daemon.sloth(["scheduler", "add", name, "--workflow", "hello", "--cron", cron, "--tz", "UTC"]).status == 0)
        }
        #expect(try await daemon.sloth(["scheduler", "disable", "d-paused", "--note", "maintenance"]).status == 0)

        let text = try await daemon.sloth(["scheduler", "list", "--utc"])
        #expect(text.status == 0)
        #expect(Self.normalised(table: text.stdout) == (try Golden.text("scheduler-list.txt", actual: Self.normalised(table: text.stdout))))
        let json = try await daemon.sloth(["scheduler", "list", "-o", "json"])
        #expect(Self.normalised(json: json.stdout) == (try Golden.text("scheduler-list.json", actual: Self.normalised(json: json.stdout))))

        let environment = ["SLOTH_SOCKET": daemon.socket, "TZ": "America/New_York"]
        let local = try await CLI.run(["scheduler", "list"], environment: environment).stdout
        #expect(local.hasSuffix("5 schedule(s) listed; times in America/New_York.\n"))
        let monthly = local.split(separator: "\n").first { $0.contains("a-monthly") } ?? ""
        #expect(monthly.contains(" 19:00:00 ") || monthly.contains(" 20:00:00 "), "midnight UTC read in New York: \(monthly)")
    }

    @Test("status shows the running runs and why the scheduler is paused")
    func status() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let started = try StartSignal(in: daemon.directory)
        try await SchedulerDaemonTests.workflow(daemon, "nap", "task('t'):command('echo go > \(started.path); sleep 381')\n")
        #expect(try await daemon.sloth(["run", "nap", "--detach"]).status == 0)
        await started.wait()
        #expect(try await daemon.sloth(["scheduler", "disable", "--note", "upgrading the database"]).status == 0)
        let shown = try await daemon.sloth(["status"]).stdout
        #expect(shown.contains("SCHEDULER  paused (upgrading the database)\n"))
        let running = shown.split(separator: "\n").drop { $0 != "Running:" }.map(String.init)
        #expect(running.count == 3 && running[1].hasPrefix("ID  WORKFLOW  SCHEDULE  SINCE") && running[2].hasPrefix("1   nap       -         "),
                "\(running)")
        let json = try await daemon.sloth(["status", "-o", "json"]).stdout
        #expect(json.contains("\"scheduler_note\":\"upgrading the database\"") && json.contains("\"running\":[{\"id\":1,"))
        #expect(try await daemon.sloth(["runs", "cancel", "1"]).status == 0)
        #expect(try await daemon.sloth(["scheduler", "enable"]).status == 0)
        #expect(!(try await daemon.sloth(["status"]).stdout.contains("upgrading")))
    }
}

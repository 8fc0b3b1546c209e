import Scheduler
import Testing

/// 2026-01-01T00:00:00Z: every check below runs against this instant, never the wall clock.
private let now: Int64 = 1_767_225_600

@Suite("Checking a schedule request before anything is stored")
struct ScheduleDefinitionTests {
    static let refusals: [(ScheduleRequest, String)] = [
        (.init(name: "", cron: "* * * * *"), "invalid schedule name \"\": use letters, digits, . _ -"),
        (.init(name: "nightly backup", cron: "* * * * *"), "invalid schedule name \"nightly backup\": use letters, digits, . _ -"),
        (.init(name: "n", cron: "61 * * * *"), "invalid cron expression \"61 * * * *\": "),
        (.init(name: "n", cron: "CRON_TZ=Europe/Berlin 0 2 * * *", zone: "UTC"),
         "the expression names zone Europe/Berlin but --tz says UTC: give one"),
        (.init(name: "n", cron: "0 2 * * *", zone: "GMT+5"), "unknown time zone \"GMT+5\""),
        (.init(name: "n", cron: "0 0 30 2 *"), "\"0 0 30 2 *\" never fires (no such date from now on)"),
        (.init(name: "n", cron: "* * * * *", overlap: "queue"), "invalid --overlap \"queue\": use one of "),
        (.init(name: "n", cron: "* * * * *", catchup: "some"), "invalid --catchup \"some\": use one of "),
        (.init(name: "n", cron: "* * * * *", catchupWindow: "1w"), "invalid --catchup-window \"1w\": unknown unit 'w'"),
        (.init(name: "n", cron: "* * * * *", jitter: "0s"), "invalid --jitter \"0s\": must be between 1s and 3660d"),
        (.init(name: "n", cron: "* * * * *", timeout: "5"), "invalid --timeout \"5\": the number 5 has no unit"),
    ]

    @Test("a bad request is refused with what, where and why", arguments: refusals)
    func refusal(request: ScheduleRequest, expected: String) {
        #expect {
            _ = try ScheduleDefinition.check(request, hostZone: "UTC", now: now)
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }

    @Test("omitted options take the documented defaults and the host's zone")
    func defaults() throws {
        let definition = try ScheduleDefinition.check(.init(name: "nightly.backup-1", cron: "0 2 * * *"),
                                                      hostZone: "Europe/Berlin", now: now)
        #expect(definition.zoneName == "Europe/Berlin")
        #expect(definition.overlap == .skip)
        #expect(definition.catchup == .latest)
        #expect(definition.catchupWindowSeconds == ScheduleRules.defaultCatchupWindowSeconds)
        #expect(definition.jitterSeconds == 0)
        #expect(definition.timeoutSeconds == nil)
    }

    @Test("a zone in the expression wins over the host's, and agrees with the same --tz")
    func zones() throws {
        let definition = try ScheduleDefinition.check(
            .init(name: "n", cron: "CRON_TZ=America/New_York 0 2 * * *", zone: "America/New_York", overlap: "allow-all",
                  catchup: "all", catchupWindow: "2h", jitter: "30s", timeout: "1h30m"),
            hostZone: "UTC", now: now)
        #expect(definition.zoneName == "America/New_York")
        #expect((definition.overlap, definition.catchup) == (.allowAll, .all))
        #expect((definition.catchupWindowSeconds, definition.jitterSeconds, definition.timeoutSeconds) == (7200, 30, 5400))
    }

    @Test("@reboot is accepted though the calendar never reaches it")
    func reboot() throws {
        #expect(try ScheduleDefinition.check(.init(name: "n", cron: "@reboot"), hostZone: "UTC", now: now).expression.schedule == .reboot)
    }
}

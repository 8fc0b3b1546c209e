import Scheduler
import Testing

/// `@reboot`: the pure decision of what fires when the daemon starts.
@Suite("Fires at the daemon's start (@reboot)")
struct StartFireTests {
    static let start: Int64 = 1_800_000_000

    static func rules(_ expression: String, enabled: Bool = true, overlap: OverlapPolicy = .skip) throws -> ScheduleRules {
        ScheduleRules(name: "boot", schedule: try CronExpression(parsing: expression).schedule, zone: .utc, overlap: overlap, enabled: enabled)
    }

    @Test("only an enabled @reboot schedule of a running scheduler fires; its nominal time is the start", arguments: [
        ("fires", "@reboot", true, false, start - 3600, InFlight.none, Optional(start), "start"),
        ("disabled", "@reboot", false, false, start - 3600, .none, nil, ""),
        ("scheduler paused", "@reboot", true, true, start - 3600, .none, nil, ""),
        ("a calendar schedule", "@daily", true, false, start - 3600, .none, nil, ""),
        ("restarted within the second of the last fire", "@reboot", true, false, start, .none, start + 1, "start"),
        ("a run still in flight (overlap skip)", "@reboot", true, false, start - 3600, InFlight(running: 1), start, "skip"),
    ] as [(String, String, Bool, Bool, Int64, InFlight, Int64?, String)])
    func atStart(scenario: String, expression: String, enabled: Bool, paused: Bool, cursor: Int64, inFlight: InFlight,
                 nominal: Int64?, action: String) throws {
        let fire = FirePlanner.atStart(try Self.rules(expression, enabled: enabled), cursor: cursor, startSeconds: Self.start,
                                       inFlight: inFlight, paused: paused)
        #expect(fire?.nominal == nominal, "\(scenario)")
        #expect(fire.map { if case .skip = $0.action { "skip" } else { "start" } } ?? "" == action, "\(scenario)")
        #expect(fire.map { $0.trigger == .schedule } ?? true, "\(scenario)")
    }

    @Test("the book fires each @reboot schedule once and keeps them out of the timer")
    func book() throws {
        var book = ScheduleBook()
        book.set(try Self.rules("@reboot"), cursor: Self.start - 60)
        book.set(ScheduleRules(name: "daily", schedule: try CronExpression(parsing: "@daily").schedule, zone: .utc), cursor: Self.start - 60)
        let fires = book.startFires(startSeconds: Self.start)
        #expect(fires.map(\.rules.name) == ["boot"])
        #expect(book.nextStartMillis("boot") == nil)
        #expect(book.due(nowMillis: (Self.start + 1) * 1000).allSatisfy { $0.rules.name != "boot" })
    }
}

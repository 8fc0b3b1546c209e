@testable import Scheduler
import Testing

// A manual clock throughout: every "now" is an RFC 3339 instant; nothing here reads the wall clock.

/// Seconds since 1970 of an RFC 3339 instant such as "2026-03-29T01:00:00Z".
private func at(_ text: String) -> Int64 {
    guard case .instant(let seconds)? = try? RFC3339.parse(text) else { preconditionFailure("not an instant: \(text)") }
    return seconds
}

/// Seconds since 1970 of a UTC time of day ("05:00" or "05:00:20") on 2026-01-01.
private func t(_ time: String) -> Int64 { at("2026-01-01T\(time)Z") }

private func rules(_ expr: String, zone: String = "UTC", name: String = "job", overlap: OverlapPolicy = .skip,
                   catchup: CatchupPolicy = .latest, window: Int64 = ScheduleRules.defaultCatchupWindowSeconds,
                   jitter: Int64 = 0, enabled: Bool = true) throws -> ScheduleRules {
    var zoneRules = ZoneRules.utc
    if zone != "UTC" { zoneRules = try ZoneRules(identifier: zone) }
    return ScheduleRules(name: name, schedule: try CronExpression(parsing: expr).schedule, zone: zoneRules, overlap: overlap,
                         catchup: catchup, catchupWindowSeconds: window, jitterSeconds: jitter, enabled: enabled)
}

/// A UTC fire as "HH:MM trigger", e.g. "04:00 catchup".
private func describe(_ fire: PlannedFire) -> String {
    "\(RFC3339.format(fire.nominal, offset: 0).dropFirst(11).prefix(5)) \(fire.trigger.rawValue)"
}

private func kind(_ action: FireAction) -> String {
    switch action {
    case .start: "start"
    case .buffer: "buffer"
    case .cancelOthersAndStart: "cancel"
    case .skip: "skip"
    }
}

struct PlannerOverlapRow: Sendable, CustomTestStringConvertible {
    let policy: OverlapPolicy, inFlight: InFlight, actions: [String]
    init(_ policy: OverlapPolicy, _ inFlight: InFlight, _ actions: [String]) {
        (self.policy, self.inFlight, self.actions) = (policy, inFlight, actions)
    }
    var testDescription: String { "overlap \(policy.rawValue) with \(inFlight.running) running, \(inFlight.buffered) buffered" }
}

struct PlannerCatchupRow: Sendable, CustomTestStringConvertible {
    let policy: CatchupPolicy, window: Int64, now: String, fires: [String], missed: Int
    init(_ policy: CatchupPolicy, window: Int64 = 86_400, now: String, _ fires: [String], missed: Int) {
        (self.policy, self.window, self.now, self.fires, self.missed) = (policy, window, now, fires, missed)
    }
    var testDescription: String { "catch-up \(policy.rawValue), window \(window) s, up at \(now) after five hours down" }
}

@Suite("Fire planner: overlap and catch-up")
struct FirePlannerPolicyTests {
    // Hourly, down from 00:00 to 03:00:30: catch-ups for 01:00 and 02:00, then 03:00 on time.
    static let overlapRows: [PlannerOverlapRow] = [
        .init(.skip, InFlight(running: 1), ["skip", "skip", "skip"]),
        .init(.bufferOne, InFlight(running: 1), ["buffer", "skip", "skip"]),
        .init(.bufferAll, InFlight(running: 1), ["buffer", "buffer", "buffer"]),
        .init(.cancelOther, InFlight(running: 1), ["cancel", "cancel", "cancel"]),
        .init(.allowAll, InFlight(running: 1), ["start", "start", "start"]),
        .init(.skip, InFlight(), ["start", "skip", "skip"]),
        .init(.bufferOne, InFlight(), ["start", "buffer", "skip"]),
        .init(.bufferAll, InFlight(), ["start", "buffer", "buffer"]),
        .init(.cancelOther, InFlight(), ["start", "cancel", "cancel"]),
        .init(.allowAll, InFlight(), ["start", "start", "start"]),
        .init(.bufferOne, InFlight(buffered: 1), ["skip", "skip", "skip"]),
        .init(.bufferAll, InFlight(running: 1, buffered: 99), ["buffer", "skip", "skip"]),
        .init(.cancelOther, InFlight(running: 2, buffered: 3), ["cancel", "cancel", "cancel"]),
    ]

    // Catch-up `all` runs every miss in turn whatever the policy (allow-all: at once); the on-time fire follows the policy.
    static let catchupAllRows: [PlannerOverlapRow] = [
        .init(.skip, InFlight(), ["start", "buffer", "skip"]),
        .init(.skip, InFlight(running: 1), ["buffer", "buffer", "skip"]),
        .init(.bufferOne, InFlight(), ["start", "buffer", "skip"]),
        .init(.bufferAll, InFlight(), ["start", "buffer", "buffer"]),
        .init(.cancelOther, InFlight(), ["start", "buffer", "buffer"]),
        .init(.allowAll, InFlight(running: 1), ["start", "start", "start"]),
        .init(.bufferAll, InFlight(running: 1, buffered: 99), ["buffer", "buffer", "skip"]),
    ]

    @Test("catch-up all queues every miss one after another whatever the overlap policy", arguments: catchupAllRows)
    func catchupAllRunsInTurn(_ row: PlannerOverlapRow) throws {
        let plan = FirePlanner.plan(try rules("0 * * * *", overlap: row.policy, catchup: .all), cursor: t("00:00"),
                                    nowMillis: t("03:00:30") * 1000, inFlight: row.inFlight)
        #expect(plan.fires.map(describe) == ["01:00 catchup", "02:00 catchup", "03:00 schedule"])
        #expect(plan.fires.map { kind($0.action) } == row.actions)
    }

    @Test("each overlap policy decides the fires of one plan in order, counting the ones it starts or buffers", arguments: overlapRows)
    func overlap(_ row: PlannerOverlapRow) throws {
        let plan = FirePlanner.plan(try rules("0 * * * *", overlap: row.policy, catchup: .latest), cursor: t("00:00"),
                                    nowMillis: t("03:00:30") * 1000, inFlight: row.inFlight)
        #expect(plan.fires.map(describe) == ["02:00 catchup", "03:00 schedule"])
        #expect(plan.fires.map { kind($0.action) } == Array(row.actions.prefix(2)))
        for case .skip(let reason) in plan.fires.map(\.action) {
            #expect(reason.contains("overlap: \(row.policy.rawValue)"))
        }
        #expect(kind(FirePlanner.manual(row.policy, inFlight: row.inFlight)) == row.actions[0])
    }

    // Hourly, last processed 00:00, so 01:00 to 05:00 are due.
    static let catchupRows: [PlannerCatchupRow] = [
        .init(.skip, now: "05:00:20", ["05:00 schedule"], missed: 4),
        .init(.latest, now: "05:00:20", ["04:00 catchup", "05:00 schedule"], missed: 4),
        .init(.all, now: "05:00:20", ["01:00 catchup", "02:00 catchup", "03:00 catchup", "04:00 catchup", "05:00 schedule"], missed: 4),
        .init(.latest, now: "05:01:00", ["04:00 catchup", "05:00 schedule"], missed: 4),
        .init(.skip, now: "05:01:01", [], missed: 5),
        .init(.latest, now: "05:01:01", ["05:00 catchup"], missed: 5),
        .init(.all, now: "05:01:01", ["01:00 catchup", "02:00 catchup", "03:00 catchup", "04:00 catchup", "05:00 catchup"], missed: 5),
        .init(.all, window: 7200, now: "05:00:00", ["03:00 catchup", "04:00 catchup", "05:00 schedule"], missed: 4),
        .init(.latest, window: 7200, now: "05:00:00", ["04:00 catchup", "05:00 schedule"], missed: 4),
        .init(.all, window: 1800, now: "05:00:20", ["05:00 schedule"], missed: 4),
        .init(.latest, window: 1800, now: "05:40:00", [], missed: 5),
    ]

    @Test("after downtime each catch-up policy runs the misses within the window, before the on-time fire", arguments: catchupRows)
    func catchup(_ row: PlannerCatchupRow) throws {
        let plan = FirePlanner.plan(try rules("0 * * * *", overlap: .allowAll, catchup: row.policy, window: row.window),
                                    cursor: t("00:00"), nowMillis: t(row.now) * 1000, inFlight: InFlight())
        #expect(plan.fires.map(describe) == row.fires)
        #expect(plan.fires.allSatisfy { $0.action == .start })
        #expect(plan.missed == row.missed)
        #expect(plan.cursor == t("05:00"))
        #expect(plan.wakeMillis == t("06:00") * 1000)
    }

    @Test("under overlap skip, the on-time fire is skipped because the catch-up run just started")
    func catchupThenOnTimeUnderSkip() throws {
        let plan = FirePlanner.plan(try rules("0 * * * *"), cursor: t("00:00"), nowMillis: t("05:00:20") * 1000, inFlight: InFlight())
        #expect(plan.fires.map(describe) == ["04:00 catchup", "05:00 schedule"])
        #expect(plan.fires.map { kind($0.action) } == ["start", "skip"])
    }

    @Test("catch-up all runs only the 100 most recent misses, oldest first")
    func catchupAllIsCapped() throws {
        let plan = FirePlanner.plan(try rules("* * * * *", overlap: .allowAll, catchup: .all), cursor: t("00:00"),
                                    nowMillis: t("03:00") * 1000, inFlight: InFlight())
        #expect(plan.missed == 179)
        #expect(plan.fires.count == FirePlanner.maxCatchupRuns + 1)
        #expect(plan.fires.first.map(describe) == "01:20 catchup")
        #expect(plan.fires.dropLast().last.map(describe) == "02:59 catchup")
        #expect(plan.fires.last.map(describe) == "03:00 schedule")
        #expect(zip(plan.fires, plan.fires.dropFirst()).allSatisfy { $0.nominal + 60 == $1.nominal })
    }
}

struct PlannerClockRow: Sendable, CustomTestStringConvertible {
    let name: String, ticks: [String], fires: [String], missed: Int
    var testDescription: String { name }
}

@Suite("Fire planner: clock jumps, pause, disabled schedules and jitter")
struct FirePlannerClockTests {
    // Hourly with catch-up latest, last processed 04:00; the planner runs at each tick with the cursor fed back.
    static let clockRows: [PlannerClockRow] = [
        .init(name: "the clock set back an hour fires nothing again", ticks: ["05:00:05", "04:10", "04:59:59", "05:00:30", "06:00:01"],
              fires: ["05:00 schedule", "06:00 schedule"], missed: 0),
        .init(name: "the clock set back past earlier fires replays none of them", ticks: ["05:00:05", "02:30", "03:00", "04:00", "05:00", "06:00"],
              fires: ["05:00 schedule", "06:00 schedule"], missed: 0),
        .init(name: "the clock jumped forward three hours is downtime: misses and a catch-up", ticks: ["05:00:05", "08:00:10"],
              fires: ["05:00 schedule", "07:00 catchup", "08:00 schedule"], missed: 2),
        .init(name: "a forward jump between fires catches up the latest, then runs on time", ticks: ["05:00:05", "07:30", "08:00"],
              fires: ["05:00 schedule", "07:00 catchup", "08:00 schedule"], missed: 2),
    ]

    @Test(arguments: clockRows)
    func clockJump(_ row: PlannerClockRow) throws {
        let schedule = try rules("0 * * * *", overlap: .allowAll)
        var cursor = t("04:00"), fires: [String] = [], missed = 0
        for tick in row.ticks {
            let plan = FirePlanner.plan(schedule, cursor: cursor, nowMillis: t(tick) * 1000, inFlight: InFlight())
            #expect(plan.cursor >= cursor)
            (cursor, fires, missed) = (plan.cursor, fires + plan.fires.map(describe), missed + plan.missed)
        }
        #expect(fires == row.fires)
        #expect(missed == row.missed)
    }

    @Test("a disabled schedule or the global pause plans nothing and keeps the cursor",
          arguments: [(false, false), (true, true), (false, true)])
    func idle(enabled: Bool, paused: Bool) throws {
        let schedule = try rules("0 * * * *", enabled: enabled)
        let plan = FirePlanner.plan(schedule, cursor: t("00:00"), nowMillis: t("05:00:20") * 1000, inFlight: InFlight(), paused: paused)
        #expect(plan == SchedulePlan(cursor: t("00:00"), wakeMillis: nil))
        var book = ScheduleBook(paused: paused)
        book.set(schedule, cursor: t("00:00"))
        #expect(book.nextWakeMillis() == nil)
        #expect(book.due(nowMillis: t("05:00:20") * 1000).isEmpty)
        #expect(book.entry("job")?.cursor == t("00:00"))
        let active = FirePlanner.plan(try rules("0 * * * *"), cursor: t("00:00"), nowMillis: t("05:00:20") * 1000, inFlight: InFlight())
        #expect(active.fires.count == 2)
    }

    static let jitterRows: [PlannerJitterRow] = [
        .init(expr: "0 * * * *", zone: "UTC", jitter: 300), .init(expr: "* * * * *", zone: "UTC", jitter: 3600),
        .init(expr: "*/5 * * * * *", zone: "UTC", jitter: 30), .init(expr: "30 2 * * *", zone: "Europe/Berlin", jitter: 600),
        .init(expr: "*/30 * * * *", zone: "America/New_York", jitter: 7200),
    ]

    @Test("jitter is deterministic, below the configured bound and below the gap to the next fire", arguments: jitterRows)
    func jitterBounds(_ row: PlannerJitterRow) throws {
        // From 2026-03-07, so the Berlin and New York rows cross DST changes.
        let schedule = try rules(row.expr, zone: row.zone, jitter: row.jitter)
        let fires = schedule.schedule.nextFires(after: at("2026-03-07T00:00:00Z"), in: schedule.zone, count: 300)
        for (nominal, next) in zip(fires, fires.dropFirst()) {
            let delay = FirePlanner.jitterMillis(schedule, nominal: nominal)
            #expect(delay == FirePlanner.jitterMillis(try rules(row.expr, zone: row.zone, jitter: row.jitter), nominal: nominal))
            #expect(delay >= 0 && delay < row.jitter * 1000)
            #expect(delay < (next - nominal) * 1000)
            #expect(FirePlanner.startMillis(schedule, nominal: nominal) == nominal * 1000 + delay)
        }
        #expect(FirePlanner.jitterMillis(try rules(row.expr, zone: row.zone), nominal: fires[0]) == 0)
    }

    @Test("a jittered fire is not due before its start and is on time from it")
    func jitteredStart() throws {
        let schedule = try rules("0 * * * *", jitter: 600)
        let start = FirePlanner.startMillis(schedule, nominal: t("01:00"))
        try #require(start > t("01:00") * 1000)
        let early = FirePlanner.plan(schedule, cursor: t("00:00"), nowMillis: start - 1, inFlight: InFlight())
        #expect(early == SchedulePlan(cursor: t("00:00"), wakeMillis: start))
        let onTime = FirePlanner.plan(schedule, cursor: t("00:00"), nowMillis: start, inFlight: InFlight())
        #expect(onTime.fires == [PlannedFire(nominal: t("01:00"), trigger: .schedule, action: .start)])
        #expect(onTime.missed == 0)
        #expect(onTime.wakeMillis == FirePlanner.startMillis(schedule, nominal: t("02:00")))
    }
}

struct PlannerJitterRow: Sendable, CustomTestStringConvertible {
    let expr: String, zone: String, jitter: Int64
    var testDescription: String { "\(expr) in \(zone) with \(jitter) s of jitter" }
}

struct PlannerDSTRow: Sendable, CustomTestStringConvertible {
    let expr: String, zone: String, from: String, until: String, fires: [String]
    var testDescription: String { "\(expr) in \(zone) from \(from)" }
}

@Suite("Fire planner across DST gap and fold days")
struct FirePlannerDSTTests {
    static let rows: [PlannerDSTRow] = [
        // Europe/Berlin: 02:00 -> 03:00 on 2026-03-29 at 01:00Z; 03:00 -> 02:00 on 2026-10-25 at 01:00Z.
        .init(expr: "30 2 * * *", zone: "Europe/Berlin", from: "2026-03-28T12:00:00Z", until: "2026-03-30T12:00:00Z",
              fires: ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
        .init(expr: "*/30 * * * *", zone: "Europe/Berlin", from: "2026-03-29T00:00:00Z", until: "2026-03-29T01:45:00Z",
              fires: ["2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"]),
        .init(expr: "30 2 * * *", zone: "Europe/Berlin", from: "2026-10-24T12:00:00Z", until: "2026-10-26T12:00:00Z",
              fires: ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
        .init(expr: "*/30 * * * *", zone: "Europe/Berlin", from: "2026-10-24T23:45:00Z", until: "2026-10-25T02:15:00Z",
              fires: ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
                      "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"]),
        // America/New_York: 02:00 EST -> 03:00 EDT on 2026-03-08 at 07:00Z; 02:00 EDT -> 01:00 EST on 2026-11-01 at 06:00Z.
        .init(expr: "30 2 * * *", zone: "America/New_York", from: "2026-03-07T12:00:00Z", until: "2026-03-09T12:00:00Z",
              fires: ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
        .init(expr: "*/30 * * * *", zone: "America/New_York", from: "2026-03-08T06:15:00Z", until: "2026-03-08T07:45:00Z",
              fires: ["2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"]),
        .init(expr: "30 1 * * *", zone: "America/New_York", from: "2026-10-31T12:00:00Z", until: "2026-11-02T12:00:00Z",
              fires: ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
        .init(expr: "*/30 * * * *", zone: "America/New_York", from: "2026-11-01T04:45:00Z", until: "2026-11-01T07:15:00Z",
              fires: ["2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
                      "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"]),
    ]

    @Test("ticking every 15 minutes and at each wake time fires each expected time exactly once, on time", arguments: rows)
    func dstDay(_ row: PlannerDSTRow) throws {
        let schedule = try rules(row.expr, zone: row.zone)
        var cursor = at(row.from), now = at(row.from) * 1000, fired: [String] = [], missed = 0
        while now <= at(row.until) * 1000 {
            let plan = FirePlanner.plan(schedule, cursor: cursor, nowMillis: now, inFlight: InFlight())
            #expect(plan.fires.allSatisfy { $0.trigger == .schedule && $0.action == .start })
            (cursor, fired, missed) = (plan.cursor, fired + plan.fires.map { RFC3339.format($0.nominal, in: schedule.zone) }, missed + plan.missed)
            guard let wake = plan.wakeMillis else { break }
            now = min(wake, now + 15 * 60_000)
        }
        #expect(fired == row.fires)
        #expect(missed == 0)
    }

    @Test("the rows' transitions are where the zone data puts them (offsets just before and at the instant)", arguments: [
        ("Europe/Berlin 2026-03-29T01:00:00Z", [3600, 7200]), ("Europe/Berlin 2026-10-25T01:00:00Z", [7200, 3600]),
        ("America/New_York 2026-03-08T07:00:00Z", [-18000, -14400]), ("America/New_York 2026-11-01T06:00:00Z", [-14400, -18000]),
    ])
    func transitions(transition: String, offsets: [Int]) throws {
        let parts = transition.split(separator: " ").map(String.init)
        let (zone, instant) = (try ZoneRules(identifier: parts[0]), at(parts[1]))
        #expect([zone.offset(at: instant - 1), zone.offset(at: instant)] == offsets)
        #expect(at("2026-03-29T01:00:00Z") == 1_774_746_000)
    }
}

@Suite("Schedule book with a manual clock")
struct ScheduleBookTests {

    @Test("due plans only the schedules whose wake time has come, in wake order")
    func dueInWakeOrder() throws {
        var book = ScheduleBook()
        for (name, expr) in [("hourly", "0 * * * *"), ("quarter", "*/15 * * * *"), ("daily", "5 2 * * *")] {
            book.set(try rules(expr, name: name), cursor: t("00:00"))
        }
        let steps: [(now: String, due: [String], nextWake: String)] = [
            ("00:10", [], "00:15"), ("00:15", ["quarter"], "00:30"),
            ("01:00", ["quarter", "hourly"], "01:15"), ("02:10", ["quarter", "hourly", "daily"], "02:15"),
        ]
        for step in steps {
            let due = book.due(nowMillis: t(step.now) * 1000)
            #expect(due.map { $0.rules.name } == step.due, "at \(step.now)")
            #expect(book.nextWakeMillis() == t(step.nextWake) * 1000, "at \(step.now)")
        }
        #expect(book.entry("quarter")?.cursor == t("02:00"))
        #expect(book.entry("daily")?.cursor == t("02:05"))
    }

    @Test("removing or replacing a schedule drops its old wake time")
    func removeAndReplace() throws {
        var book = ScheduleBook()
        book.set(try rules("0 * * * *", name: "a"), cursor: t("00:00"))
        book.set(try rules("*/15 * * * *", name: "b"), cursor: t("00:00"))
        book.remove("b")
        #expect(book.nextWakeMillis() == t("01:00") * 1000)
        #expect(book.count == 1 && book.entry("b")?.cursor == nil)
        book.set(try rules("0 3 * * *", name: "a"), cursor: t("00:00"))
        #expect(book.nextWakeMillis() == t("03:00") * 1000)
        #expect(book.due(nowMillis: t("02:00") * 1000).isEmpty)
        let due = book.due(nowMillis: t("03:00") * 1000)
        #expect(due.map { $0.rules.name } == ["a"])
        #expect(due.first?.plan.fires.map(describe) == ["03:00 schedule"])
        book.set(try rules("0 3 * * *", name: "a", enabled: false), cursor: t("03:00"))
        #expect(book.nextWakeMillis() == nil)
    }

    @Test("while paused nothing is due; on resume the misses are planned by the catch-up policy")
    func pauseAndResume() throws {
        var book = ScheduleBook(paused: true)
        book.set(try rules("0 * * * *"), cursor: t("00:00"))
        #expect(book.nextWakeMillis() == nil && book.nextStartMillis("job") == nil)
        #expect(book.due(nowMillis: t("05:00:20") * 1000).isEmpty)
        #expect(book.entry("job")?.cursor == t("00:00"))
        book.setPaused(false)
        #expect(book.nextWakeMillis() == t("01:00") * 1000)
        let due = book.due(nowMillis: t("05:00:20") * 1000)
        #expect(due.first?.plan.fires.map(describe) == ["04:00 catchup", "05:00 schedule"])
        #expect(due.first?.plan.missed == 4)
    }

    @Test("a loop advancing a manual clock to each wake time fires a per-second schedule once a second")
    func perSecondLoop() throws {
        var book = ScheduleBook()
        book.set(try rules("* * * * * *", name: "tick"), cursor: t("12:00:00"))
        var now = t("12:00:00") * 1000, nominals: [Int64] = []
        for _ in 0..<120 {
            let next = book.nextWakeMillis()
            let wake = try #require(next)
            #expect(wake > now)
            now = wake
            let fires = book.due(nowMillis: now).flatMap { $0.plan.fires }
            #expect(fires.count == 1 && fires.allSatisfy { $0.trigger == .schedule && $0.action == .start })
            nominals += fires.map(\.nominal)
        }
        #expect(nominals == Array(t("12:00:01")...t("12:02:00")))
    }
}

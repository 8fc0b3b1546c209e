import Catalog
import Runner
import Scheduler
@testable import SlothdCore
import Testing
import TestSupport

/// The schedule service in process, on a manual clock, with a pool that records: no test here waits
/// on the wall clock.
@Suite("The schedule service")
struct ScheduleServiceTests {
    @Test("a restart after downtime runs one catch-up for a `latest` schedule and counts every late fire missed")
    func restartCatchUp() async throws {
        let harness = try ScheduleHarness(at: "2026-06-01T12:30:00Z")
        try harness.add("hourly", cron: "0 * * * *", cursor: "2026-06-01T08:00:00Z")
        try await harness.service.start()
        #expect(harness.pool.submitted.map(\.request.trigger) == [.catchup])
        #expect(await harness.service.health("hourly").missed == 4, "09:00 to 12:00, caught up or not")
        #expect(try harness.states("hourly") == ["queued"])
    }

    @Test("a clock that jumps back never fires a nominal time twice; forward again, the next minute fires")
    func clockJumpsBack() async throws {
        let harness = try ScheduleHarness()
        try harness.add("minutely", cron: "* * * * *")
        try await harness.service.start()
        await harness.at("2026-06-01T12:01:00Z")
        await harness.at("2026-06-01T11:50:00Z")
        await harness.at("2026-06-01T12:01:30Z")
        #expect(harness.pool.submitted.count == 1)
        harness.pool.end(harness.pool.submittedIDs[0])
        await harness.deliver()
        await harness.at("2026-06-01T12:02:00Z")
        #expect(harness.pool.submitted.map(\.nominal) == [Self.seconds("2026-06-01T12:01:00Z"), Self.seconds("2026-06-01T12:02:00Z")])
    }

    @Test("a clock jump forward follows the catch-up policy: `skip` counts the misses and runs only the fire due now")
    func clockJumpsForward() async throws {
        let harness = try ScheduleHarness()
        try harness.add("hourly", cron: "0 * * * *", catchup: .skip)
        try await harness.service.start()
        await harness.at("2026-06-01T15:00:00Z")
        #expect(harness.pool.submitted.map(\.nominal) == [Self.seconds("2026-06-01T15:00:00Z")])
        #expect(await harness.service.health("hourly").missed == 2)
    }

    struct OverlapRow: CustomTestStringConvertible, Sendable {
        let policy: OverlapPolicy
        /// Run states after three fires a minute apart and the first run's end.
        let states: [String]
        /// Runs handed to the pool, by fire (1, 2, 3).
        let submitted: [Int]
        let cancelled: [Int]
        var testDescription: String { "overlap \(policy.rawValue)" }
    }

    @Test("three fires while the first run is in flight, then it ends", arguments: [
        OverlapRow(policy: .skip, states: ["succeeded", "skipped", "skipped"], submitted: [1], cancelled: []),
        OverlapRow(policy: .bufferOne, states: ["succeeded", "queued", "skipped"], submitted: [1, 2], cancelled: []),
        OverlapRow(policy: .bufferAll, states: ["succeeded", "queued", "queued"], submitted: [1, 2], cancelled: []),
        OverlapRow(policy: .cancelOther, states: ["cancelled", "cancelled", "queued"], submitted: [1, 2, 3], cancelled: [1, 2]),
        OverlapRow(policy: .allowAll, states: ["succeeded", "queued", "queued"], submitted: [1, 2, 3], cancelled: []),
    ])
    func overlap(_ row: OverlapRow) async throws {
        let harness = try ScheduleHarness()
        try harness.add("minutely", cron: "* * * * *", overlap: row.policy)
        try await harness.service.start()
        for minute in 1...3 {
            await harness.at("2026-06-01T12:0\(minute):00Z")
            await harness.deliver()
        }
        let ids = try harness.runs.list(.init(schedule: "minutely", limit: 10)).map(\.id).sorted()
        harness.pool.end(ids[0])
        await harness.deliver()
        #expect(try harness.states("minutely") == row.states)
        #expect(harness.pool.submittedIDs == row.submitted.map { ids[$0 - 1] })
        #expect(harness.pool.cancelledIDs == row.cancelled.map { ids[$0 - 1] })
    }

    @Test("a buffer-all buffer drains one run at a time, each when the one before ends")
    func bufferReleasedInTurn() async throws {
        let harness = try ScheduleHarness()
        try harness.add("minutely", cron: "* * * * *", overlap: .bufferAll)
        try await harness.service.start()
        for minute in 1...3 { await harness.at("2026-06-01T12:0\(minute):00Z") }
        for expected in 2...3 {
            harness.pool.end(harness.pool.submittedIDs.last!)
            await harness.deliver()
            #expect(harness.pool.submitted.count == expected)
        }
    }

    @Test("cancelling a scheduled run while it is queued frees its schedule: the next fire starts, not skipped")
    func cancelWhileQueued() async throws {
        let harness = try ScheduleHarness()
        try harness.add("minutely", cron: "* * * * *", overlap: .skip)
        try await harness.service.start()
        await harness.at("2026-06-01T12:01:00Z")
        #expect(harness.pool.cancel(harness.pool.submittedIDs[0], reason: .user))
        await harness.deliver()
        await harness.at("2026-06-01T12:02:00Z")
        #expect(try harness.states("minutely") == ["cancelled", "queued"])
        #expect(harness.pool.submitted.count == 2)
    }

    @Test("a buffered fire cancelled by hand leaves the buffer: nothing starts when the run before it ends")
    func bufferedCancelledByHand() async throws {
        let harness = try ScheduleHarness()
        try harness.add("minutely", cron: "* * * * *", overlap: .bufferOne)
        try await harness.service.start()
        await harness.at("2026-06-01T12:01:00Z")
        await harness.at("2026-06-01T12:02:00Z")
        let waiting = try #require(try harness.runs.list(.init(schedule: "minutely", limit: 10)).map(\.id).max())
        #expect(await harness.service.cancelWaiting(waiting, schedule: "minutely"))
        await harness.deliver()
        harness.pool.end(harness.pool.submittedIDs[0])
        await harness.deliver()
        #expect(harness.pool.submitted.count == 1)
        #expect(try harness.states("minutely") == ["succeeded", "cancelled"])
    }

    @Test("pausing with a note stops the fires and says why; resuming fires from then on, with no catch-up")
    func pauseWithNote() async throws {
        let harness = try ScheduleHarness()
        try harness.add("minutely", cron: "* * * * *")
        try await harness.service.start()
        try await harness.service.setPaused(true, note: "database migration")
        #expect(await harness.service.summary().pauseNote == "database migration")
        await harness.at("2026-06-01T12:05:00Z")
        #expect(harness.pool.submitted.isEmpty)
        try await harness.service.setPaused(false)
        await harness.at("2026-06-01T12:06:00Z")
        #expect(harness.pool.submitted.map(\.nominal) == [Self.seconds("2026-06-01T12:06:00Z")])
        #expect(await harness.service.summary().pauseNote == nil)
    }

    @Test("a full queue refuses a fire: its run is closed failed and counted blocked, and the next fire starts")
    func fullQueue() async throws {
        let harness = try ScheduleHarness()
        try harness.add("minutely", cron: "* * * * *")
        try await harness.service.start()
        harness.pool.refuse(true)
        await harness.at("2026-06-01T12:01:00Z")
        await harness.deliver()
        harness.pool.refuse(false)
        await harness.at("2026-06-01T12:02:00Z")
        #expect(try harness.states("minutely") == ["failed", "queued"])
        #expect(await harness.service.health("minutely").blocked == 1)
        #expect(harness.pool.submitted.count == 1)
    }

    @Test("the reconciler takes in a schedule the book missed, drops one the catalog lost, and logs both")
    func reconcilerRepairs() async throws {
        let harness = try ScheduleHarness()
        try harness.add("kept", cron: "0 * * * *")
        try harness.add("dropped", cron: "0 * * * *")
        try await harness.service.start()
        try harness.add("unseen", cron: "30 * * * *")
        try harness.schedules.remove("dropped")
        await harness.service.reconcile()
        #expect(await harness.service.nextStartMillis("unseen") == ScheduleHarness.millis("2026-06-01T12:30:00Z"))
        #expect(await harness.service.nextStartMillis("dropped") == nil)
        #expect(await harness.service.summary().schedules == 2)
        let repairs = harness.lines.filter { $0.contains("reconciler") }
        #expect(repairs.count == 2)
        #expect(await harness.service.health("unseen").repaired == 1)
        await harness.service.reconcile()
        #expect(harness.lines.filter { $0.contains("reconciler") }.count == 2, "a book that agrees needs no repair")
    }

    @Test("an overdue schedule shows its lag; on time it shows none")
    func lag() async throws {
        let harness = try ScheduleHarness()
        try harness.add("hourly", cron: "0 * * * *")
        try await harness.service.start()
        harness.pool.refuse(false)
        harness.clock.set(ScheduleHarness.millis("2026-06-01T13:00:45Z"))
        #expect(await harness.service.health("hourly").lagSeconds == 45)
        #expect(String(decoding: await harness.service.metricsText(), as: UTF8.self).contains("slothd_schedule_lag_seconds{schedule=\"hourly\"} 45\n"))
        await harness.service.tick()
        #expect(await harness.service.health("hourly").lagSeconds == 0)
        #expect(String(decoding: await harness.service.metricsText(), as: UTF8.self).contains("slothd_schedule_lag_seconds{schedule=\"hourly\"} 0\n"),
                "a schedule that lagged once reads 0 once it is on time again")
    }

    @Test("the loop fires on the manual clock and hears the pool's exits: a buffered fire starts when the run before it ends")
    func loopFollowsClockAndExits() async throws {
        let harness = try ScheduleHarness()
        try harness.add("minutely", cron: "* * * * *", overlap: .bufferOne)
        try await harness.service.start()
        let loop = Task { await harness.service.run() }
        defer { loop.cancel() }
        var submits = harness.pool.submits.makeAsyncIterator()
        for minute in 1...2 {
            await Self.waitForSleep(harness.clock)
            harness.clock.set(ScheduleHarness.millis("2026-06-01T12:0\(minute):00Z"))
            if minute == 1 { _ = await submits.next() }
        }
        await Self.waitForSleep(harness.clock)
        harness.pool.end(harness.pool.submittedIDs[0])
        let second = await submits.next()
        #expect(second != nil && second != harness.pool.submittedIDs[0])
    }

    /// The loop has planned and sleeps on the clock (it yields the thread until then: no wall-clock wait).
    static func waitForSleep(_ clock: ManualClock) async {
        while clock.sleepers == 0 { await Task.yield() }
    }

    static func seconds(_ time: String) -> Int64 { ScheduleHarness.millis(time) / 1000 }
}

import Catalog
import Foundation
import Runner
import Scheduler

/// The scheduling loop. The decisions are Scheduler's (`ScheduleBook` and `FirePlanner`, pure); this
/// actor applies them: it records each plan in one transaction (a fire already recorded is never run
/// again), dispatches the runs into the pool, holds buffered fires, and sleeps until the next wake time
/// or until a schedule changes.
actor ScheduleService {
    /// Every schedule's rules and cursor, with what it runs (the rest of its definition stays in the database).
    private var book = ScheduleBook(payload: Target.self)
    /// Workflows read during one tick: thousands of fires of one workflow read it once.
    private var workflowCache: [String: WorkflowStore.Workflow] = [:]
    /// Runs of each schedule queued or running in the pool.
    private var inFlight: [String: Set<Int64>] = [:]
    /// Fires waiting for their schedule's runs in flight (overlap buffer-one/buffer-all), oldest first.
    private var buffered: [String: [(runID: Int64, nominal: Int64?, trigger: RunTrigger)]] = [:]
    private var sleeper: Task<Void, Never>?
    /// The note of `scheduler disable --note` while the whole scheduler is paused.
    private var pauseNote: String?
    private let clock: any SchedulerClock
    private let database: CatalogDatabase
    private let store: ScheduleStore
    private let workflows: WorkflowStore
    private let runs: RunStore
    private let events: EventStore
    private let pool: WorkerPool
    private let metrics: DaemonMetrics
    private let log: DaemonLog
    /// Sleeps are cut into steps this long, so a wall-clock jump is noticed soon.
    static let maxSleepMillis: Int64 = 5_000

    init(database: CatalogDatabase, pool: WorkerPool, metrics: DaemonMetrics, log: DaemonLog, clock: any SchedulerClock = WallClock()) {
        self.database = database
        (store, workflows, runs, events) = (ScheduleStore(database: database), WorkflowStore(database: database),
                                            RunStore(database: database), EventStore(database: database))
        (self.pool, self.metrics, self.log, self.clock) = (pool, metrics, log, clock)
    }

    // MARK: the loop

    /// Loads every schedule, applies the first plan (the catch-up after downtime) and fires the `@reboot`
    /// schedules; slothd reports READY only after this.
    func start() throws {
        book = ScheduleBook(paused: try store.paused(), payload: Target.self)
        pauseNote = try store.pauseNote()
        book.reserve(try store.count())
        try store.forEach { load($0) }
        database.releaseMemory()
        tick()
        let planned = book.startFires(startSeconds: clock.nowMillis() / 1000) { [inFlight, buffered] name in
            InFlight(running: inFlight[name]?.count ?? 0, buffered: buffered[name]?.count ?? 0)
        }
        // The cursor keeps the last start fired, so the next start gets a later nominal time.
        let advances = planned.map { ScheduleStore.Advance(schedule: $0.rules.name, cursor: $0.fire.nominal, missed: 0) }
        if !planned.isEmpty && !fire(planned.map { ($0.rules.name, $0.fire) }, advances: advances) {
            log.error("the @reboot schedules did not fire: the database refused to record their runs")
        }
    }

    func run() async {
        while !Task.isCancelled {
            tick()
            let now = clock.nowMillis()
            // While writes fail, the rewound schedules are due at once: wait for the retry time instead.
            let retry = writeFailure.map(\.retryAtMillis).flatMap { $0 > now ? $0 : nil }
            let wake = retry ?? book.nextWakeMillis() ?? .max
            let delay = min(wake - now, Self.maxSleepMillis)
            guard delay > 0 else { continue }
            let clock = self.clock
            let sleeper = Task { _ = try? await clock.sleep(milliseconds: delay) }
            self.sleeper = sleeper
            await withTaskCancellationHandler { await sleeper.value } onCancel: { sleeper.cancel() }
        }
    }

    /// Something changed: plan again now.
    private func wake() { sleeper?.cancel() }

    private func tick() {
        let now = clock.nowMillis()
        if let retryAt = writeFailure?.retryAtMillis, now < retryAt { return }
        workflowCache.removeAll()
        defer { workflowCache.removeAll() }
        let plans = book.due(nowMillis: now) { [inFlight, buffered] name in
            InFlight(running: inFlight[name]?.count ?? 0, buffered: buffered[name]?.count ?? 0)
        }
        guard !plans.isEmpty else { return }
        let fires = plans.flatMap { plan in plan.plan.fires.map { (plan.rules.name, $0) } }
        let advances = plans.map { ScheduleStore.Advance(schedule: $0.rules.name, cursor: $0.plan.cursor, missed: $0.plan.missed) }
        guard fire(fires, advances: advances) else {
            // Nothing of this plan happened: the cursors go back and the same fires are planned again
            // once the database takes writes (late fires then follow the catch-up policy).
            for (rules, _, from) in plans { book.rewind(rules.name, to: from) }
            return
        }
        for (rules, plan, _) in plans where plan.missed > 0 { noteMissed(rules.name, count: plan.missed) }
    }

    /// Records planned fires and cursor moves in one transaction, then applies each fire recorded now
    /// (one already recorded never runs again); false when the database refused the write.
    private func fire(_ planned: [(schedule: String, fire: PlannedFire)], advances: [ScheduleStore.Advance]) -> Bool {
        var fires: [(fire: ScheduleStore.Fire, action: FireAction)] = []
        for (schedule, planned) in planned {
            guard let target = book.entry(schedule)?.payload else { continue }
            let version = (try? workflow(target.workflow)).map(\.version)
            var reason: String?
            if case .skip(let why) = planned.action { reason = why }
            fires.append((ScheduleStore.Fire(schedule: schedule, workflow: target.workflow, workflowVersion: version,
                                             nominal: planned.nominal, trigger: RunTrigger(planned.trigger), skipReason: reason,
                                             stack: target.stack), planned.action))
        }
        let ids: [Int64?]
        do {
            ids = try store.record(fires.map(\.fire), advances: advances)
        } catch {
            noteWriteFailure("\(error)", now: clock.nowMillis())
            return false
        }
        noteWriteRecovered()
        for ((fire, action), id) in zip(fires, ids) {
            guard let id else { continue }
            apply(action, runID: id, schedule: fire.schedule, nominal: fire.nominal, trigger: fire.trigger)
        }
        return true
    }

    /// The database refused the scheduler's writes (a full disk, a read-only file system): retried every
    /// second, logged once a minute, shown in STATUS= and `sloth status`.
    struct WriteFailure {
        var reason: String
        var retryAtMillis: Int64
        var loggedAtMillis: Int64
    }

    private(set) var writeFailure: WriteFailure?
    static let writeRetryMillis: Int64 = 1_000
    static let writeLogEveryMillis: Int64 = 60_000

    private func noteWriteFailure(_ reason: String, now: Int64) {
        let logged = writeFailure?.loggedAtMillis
        let due = logged.map { now - $0 >= Self.writeLogEveryMillis } ?? true
        if due { log.error("the database is not writable; fires wait until it is (retrying every second): \(reason)") }
        writeFailure = WriteFailure(reason: reason, retryAtMillis: now + Self.writeRetryMillis,
                                    loggedAtMillis: due ? now : (logged ?? now))
    }

    private func noteWriteRecovered() {
        guard writeFailure != nil else { return }
        writeFailure = nil
        log.info("the database takes writes again; waiting fires are recorded")
    }

    /// One line in the daemon's log for each fire: started (by `dispatch`), waiting, or skipped.
    private func apply(_ action: FireAction, runID: Int64, schedule: String, nominal: Int64?, trigger: RunTrigger) {
        switch action {
        case .start:
            dispatch(runID, schedule: schedule, nominal: nominal, trigger: trigger)
        case .buffer:
            buffered[schedule, default: []].append((runID, nominal, trigger))
            log.info("schedule \(schedule) fired (\(describe(trigger, nominal, schedule))): run \(runID) waits for the runs in flight")
        case .cancelOthersAndStart:
            for other in inFlight[schedule] ?? [] { _ = pool.cancel(other) }
            for waiting in buffered.removeValue(forKey: schedule) ?? [] {
                try? runs.close(waiting.runID, state: .cancelled, error: "replaced by a newer fire (overlap: cancel-other)")
            }
            dispatch(runID, schedule: schedule, nominal: nominal, trigger: trigger)
        case .skip(let why):
            metrics.scheduleSkipped(schedule)
            log.info("schedule \(schedule) fired (\(describe(trigger, nominal, schedule))): run \(runID) skipped, \(why)")
        }
    }

    /// "nominal 2026-03-08T02:30:00+01:00", in the schedule's zone; "manual" for a trigger.
    private func describe(_ trigger: RunTrigger, _ nominal: Int64?, _ schedule: String) -> String {
        guard let nominal else { return trigger.rawValue }
        let zone = book.entry(schedule)?.rules.zone ?? .utc
        return (trigger == .schedule ? "" : trigger.rawValue + ", ") + "nominal " + RFC3339.format(nominal, in: zone)
    }

    private func dispatch(_ runID: Int64, schedule: String, nominal: Int64?, trigger: RunTrigger) {
        guard let target = book.entry(schedule)?.payload else {
            try? runs.close(runID, state: .failed, error: "schedule \(schedule) was removed before the run started")
            return
        }
        do {
            let workflow = try self.workflow(target.workflow)
            guard workflow.active else { throw DispatchFailure(message: "workflow \(workflow.name) is inactive") }
            var request = RunRequest(file: workflow.filePath ?? "\(workflow.name).sloth", source: workflow.content ?? "",
                                     workflow: workflow.entry, tasks: target.tasks, params: target.params, trigger: trigger, stack: target.stack)
            request.queuedRunID = runID
            request.delegateTo = target.delegateTo.map { [$0] } ?? []
            inFlight[schedule, default: []].insert(runID)
            try pool.submit(.init(runID: runID, workflow: workflow.name, request: request, schedule: schedule, nominal: nominal,
                                  timeoutSeconds: target.timeoutSeconds))
            metrics.scheduleFired(schedule)
            log.info("schedule \(schedule) fired (\(describe(trigger, nominal, schedule))): run \(runID) of workflow \(workflow.name) queued")
        } catch {
            inFlight[schedule]?.remove(runID)
            try? runs.close(runID, state: .failed, error: "schedule \(schedule) could not start its run: \(error)")
            _ = try? events.record(type: "schedule.dispatch_failed", data: ["schedule": schedule, "error": "\(error)"], runID: runID)
            log.error("schedule \(schedule) fired (\(describe(trigger, nominal, schedule))) but run \(runID) was refused: \(error)")
        }
    }

    private func noteMissed(_ schedule: String, count: Int) {
        metrics.scheduleMissed(schedule, count: count)
        _ = try? events.record(type: "schedule.missed", data: ["schedule": schedule], numbers: ["count": Int64(count)])
    }

    // MARK: runs in flight (told by the pool)

    func runEnded(_ runID: Int64, schedule: String) {
        inFlight[schedule]?.remove(runID)
        guard inFlight[schedule]?.isEmpty ?? true, var waiting = buffered[schedule], !waiting.isEmpty else { return }
        let next = waiting.removeFirst()
        buffered[schedule] = waiting.isEmpty ? nil : waiting
        dispatch(next.runID, schedule: schedule, nominal: next.nominal, trigger: next.trigger)
    }

    // MARK: changes from the control API

    /// Takes a schedule's stored definition again (added, enabled, disabled).
    func reload(_ name: String) throws {
        load(try store.get(name))
        wake()
    }

    func removed(_ name: String) {
        book.remove(name)
        for waiting in buffered.removeValue(forKey: name) ?? [] {
            try? runs.close(waiting.runID, state: .cancelled, error: "schedule \(name) was removed")
        }
    }

    func setPaused(_ paused: Bool, note: String? = nil) throws {
        try store.setPaused(paused, note: note, cursor: clock.nowMillis() / 1000)
        book.setPaused(paused)
        pauseNote = paused ? note : nil
        if !paused { try store.forEach { load($0) } }
        wake()
    }

    /// `scheduler trigger`: a run now, under the schedule's overlap policy (recorded `skipped` if the policy says so).
    func trigger(_ name: String) throws -> Int64 {
        guard let entry = book.entry(name) else { throw ScheduleStore.Error.unknown(name) }
        let (target, rules) = (entry.payload, entry.rules)
        let action = FirePlanner.manual(rules.overlap, inFlight: InFlight(running: inFlight[name]?.count ?? 0,
                                                                          buffered: buffered[name]?.count ?? 0))
        var reason: String?
        if case .skip(let why) = action { reason = why }
        let version = (try? workflows.get(target.workflow, content: false)).map(\.version)
        guard let id = try store.record([.init(schedule: name, workflow: target.workflow, workflowVersion: version, nominal: nil,
                                               trigger: .manual, skipReason: reason, stack: target.stack)],
                                      advances: []).first ?? nil else {
            throw DispatchFailure(message: "the trigger was not recorded")
        }
        apply(action, runID: id, schedule: name, nominal: nil, trigger: .manual)
        return id
    }

    // MARK: views

    struct Summary {
        var schedules: Int
        var paused: Bool
        var nextFireMillis: Int64?
        /// Why the database takes no writes, while it does not.
        var databaseProblem: String? = nil
        /// Why the scheduler is paused, if the pause said.
        var pauseNote: String? = nil
    }

    func summary() -> Summary {
        Summary(schedules: book.count, paused: book.paused, nextFireMillis: book.nextWakeMillis(), databaseProblem: writeFailure?.reason,
                pauseNote: book.paused ? pauseNote : nil)
    }

    func nextStartMillis(_ name: String) -> Int64? { book.nextStartMillis(name) }

    // MARK: pieces

    private func load(_ schedule: ScheduleStore.Schedule) {
        do {
            book.set(try Self.rules(schedule), cursor: schedule.cursor,
                     payload: Target(workflow: schedule.workflow, tasks: schedule.tasks, params: schedule.params,
                                     timeoutSeconds: schedule.timeoutSeconds, stack: schedule.stack, delegateTo: schedule.delegateTo))
        } catch {
            log.error("schedule \(schedule.name) is not loaded: \(error)")
        }
    }

    private func workflow(_ name: String) throws -> WorkflowStore.Workflow {
        if let known = workflowCache[name] { return known }
        let found = try workflows.get(name)
        workflowCache[name] = found
        return found
    }

    static func rules(_ schedule: ScheduleStore.Schedule) throws -> ScheduleRules {
        ScheduleRules(name: schedule.name, schedule: try CronExpression(parsing: schedule.cron).schedule,
                      zone: try ZoneRules.named(schedule.zone), overlap: OverlapPolicy(rawValue: schedule.overlap) ?? .skip,
                      catchup: CatchupPolicy(rawValue: schedule.catchup) ?? .latest, catchupWindowSeconds: schedule.catchupWindowSeconds,
                      jitterSeconds: schedule.jitterSeconds, enabled: schedule.enabled)
    }

    struct DispatchFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

import Catalog
import Foundation
import Runner
import Scheduler

/// The scheduling loop. The decisions are Scheduler's (`ScheduleBook` and `FirePlanner`, pure); this
/// actor applies them: it records each plan in one transaction (a fire already recorded is never run
/// again), dispatches the runs into the pool, holds buffered fires, and sleeps until the next wake time
/// or until a schedule changes.
public actor ScheduleService {
    /// Every schedule's rules and cursor, with what it runs (the rest of its definition stays in the database).
    var book = ScheduleBook(payload: Target.self)
    /// Workflows read during one tick: thousands of fires of one workflow read it once.
    private var workflowCache: [String: WorkflowStore.Workflow] = [:]
    /// What each schedule's fires came to since slothd started (`scheduler show`, `/metrics`).
    var counters: [String: ScheduleCounters] = [:]
    /// Schedules whose lag gauge is shown (they were overdue once).
    var laggedBefore = Set<String>()
    private var sleeper: Task<Void, Never>?
    /// The note of `scheduler disable --note` while the whole scheduler is paused.
    private var pauseNote: String?
    let clock: any SchedulerClock
    private let database: CatalogDatabase
    let store: ScheduleStore
    private let workflows: WorkflowStore
    private let runs: RunStore
    private let events: EventStore
    private let pool: any RunDispatch
    let metrics: DaemonMetrics
    let log: DaemonLog
    /// The actor runs on a thread of its own: recording fires is a synchronous SQLite write.
    private let thread = SerialThread(name: "slothd scheduler")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }
    /// Sleeps are cut into steps this long, so a wall-clock jump is noticed soon.
    static let maxSleepMillis: Int64 = 5_000

    public init(database: CatalogDatabase, pool: any RunDispatch, metrics: DaemonMetrics, log: DaemonLog, clock: any SchedulerClock = WallClock()) {
        self.database = database
        (store, workflows, runs, events) = (ScheduleStore(database: database), WorkflowStore(database: database),
                                            RunStore(database: database), EventStore(database: database))
        (self.pool, self.metrics, self.log, self.clock) = (pool, metrics, log, clock)
    }

    // MARK: the loop

    /// Loads every schedule, applies the first plan (the catch-up after downtime) and fires the `@reboot`
    /// schedules; slothd reports READY only after this.
    public func start() throws {
        book = ScheduleBook(paused: try store.paused(), payload: Target.self)
        pauseNote = try store.pauseNote()
        book.reserve(try store.count())
        try store.forEach { load($0) }
        database.releaseMemory()
        tick()
        let planned = book.startFires(startSeconds: clock.nowMillis() / 1000)
        // The cursor keeps the last start fired, so the next start gets a later nominal time.
        let advances = planned.map { ScheduleStore.Advance(schedule: $0.rules.name, cursor: $0.fire.nominal, missed: 0) }
        if !planned.isEmpty && !fire(planned.map { ($0.rules.name, $0.fire) }, advances: advances) {
            log.error("the @reboot schedules did not fire: the database refused to record their runs")
        }
    }

    /// The timer loop and the pool's exits, each in a loop of its own on this actor, until cancelled.
    public func run() async {
        let exits = pool.exits
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.follow(exits) }
            group.addTask { await self.timerLoop() }
            await group.next()
            group.cancelAll()
        }
    }

    private func follow(_ exits: AsyncStream<PoolExit>) async {
        for await exit in exits {
            guard !Task.isCancelled else { return }
            heard(exit)
        }
    }

    private func timerLoop() async {
        var nextReconcile = clock.nowMillis() + Self.reconcileEveryMillis
        while !Task.isCancelled {
            if clock.nowMillis() >= nextReconcile {
                reconcile()
                nextReconcile = clock.nowMillis() + Self.reconcileEveryMillis
            }
            tick()
            let now = clock.nowMillis()
            // While writes fail, the rewound schedules are due at once: wait for the retry time instead.
            let retry = writeFailure.map(\.retryAtMillis).flatMap { $0 > now ? $0 : nil }
            let wake = min(retry ?? book.nextWakeMillis() ?? .max, nextReconcile)
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

    func tick() {
        let now = clock.nowMillis()
        if let retryAt = writeFailure?.retryAtMillis, now < retryAt { return }
        workflowCache.removeAll()
        defer { workflowCache.removeAll() }
        let plans = book.due(nowMillis: now)
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
        var fires: [(fire: ScheduleStore.Fire, action: FireAction, trigger: FireTrigger)] = []
        for (schedule, planned) in planned {
            guard let target = book.entry(schedule)?.payload else { continue }
            let version = (try? workflow(target.workflow)).map(\.version)
            var reason: String?
            if case .skip(let why) = planned.action { reason = why }
            fires.append((ScheduleStore.Fire(schedule: schedule, workflow: target.workflow, workflowVersion: version,
                                             nominal: planned.nominal, trigger: RunTrigger(planned.trigger), skipReason: reason,
                                             stack: target.stack), planned.action, planned.trigger))
        }
        let ids: [Int64?]
        do {
            ids = try store.record(fires.map(\.fire), advances: advances)
        } catch {
            for (fire, _, _) in fires { count(fire.schedule) { $0.blocked += 1 } }
            noteWriteFailure("\(error)", now: clock.nowMillis())
            return false
        }
        noteWriteRecovered()
        for ((fire, action, trigger), id) in zip(fires, ids) {
            guard let id else { continue }
            apply(action, fire: .init(runID: id, nominal: fire.nominal, trigger: trigger), schedule: fire.schedule)
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

    /// One line in the daemon's log for each fire: started (by `dispatch`), waiting, or skipped; then
    /// the book's commands for it are carried out.
    private func apply(_ action: FireAction, fire: ScheduleFlights.Fire, schedule: String) {
        switch action {
        case .buffer:
            log.info("schedule \(schedule) fired (\(describe(fire, schedule))): run \(fire.runID) waits for the runs in flight")
        case .skip(let why):
            count(schedule) { $0.skipped += 1 }
            log.info("schedule \(schedule) fired (\(describe(fire, schedule))): run \(fire.runID) skipped, \(why)")
        case .start, .cancelOthersAndStart:
            break
        }
        carryOut(book.recorded(fire, schedule: schedule, action: action))
    }

    private func carryOut(_ commands: [ScheduleFlights.Command]) {
        for command in commands {
            switch command {
            case .start(let fire, let schedule):
                dispatch(fire, schedule: schedule)
            case .cancel(let runID, _):
                _ = pool.cancel(runID, reason: .replaced)
            case .close(let runID, let schedule, let reason):
                let workflow = book.entry(schedule)?.payload.workflow ?? schedule
                let why = switch reason {
                case .replaced: RunCancellation.Reason.replaced.message
                case .scheduleRemoved: "schedule \(schedule) was removed"
                }
                pool.close(UnstartedRun(runID: runID, workflow: workflow, schedule: schedule), state: .cancelled, error: why)
            }
        }
    }

    /// "nominal 2026-03-08T02:30:00+01:00", in the schedule's zone; "manual" for a trigger.
    private func describe(_ fire: ScheduleFlights.Fire, _ schedule: String) -> String {
        let trigger = RunTrigger(fire.trigger)
        guard let nominal = fire.nominal else { return trigger.rawValue }
        let zone = book.entry(schedule)?.rules.zone ?? .utc
        return (trigger == .schedule ? "" : trigger.rawValue + ", ") + "nominal " + RFC3339.format(nominal, in: zone)
    }

    /// Hands a fire's run to the pool. A run that cannot start is closed as failed; its end, like every
    /// end, comes back on the pool's exits.
    private func dispatch(_ fire: ScheduleFlights.Fire, schedule: String) {
        let workflowName = book.entry(schedule)?.payload.workflow ?? schedule
        do {
            guard let target = book.entry(schedule)?.payload else {
                throw DispatchFailure(message: "schedule \(schedule) was removed before the run started")
            }
            let workflow = try self.workflow(target.workflow)
            guard workflow.active else { throw DispatchFailure(message: "workflow \(workflow.name) is inactive") }
            var request = RunRequest(file: workflow.filePath ?? "\(workflow.name).sloth", source: workflow.content ?? "",
                                     workflow: workflow.entry, tasks: target.tasks, params: target.params, trigger: RunTrigger(fire.trigger),
                                     stack: target.stack)
            request.queuedRunID = fire.runID
            request.delegateTo = target.delegateTo.map { [$0] } ?? []
            try pool.submit(.init(runID: fire.runID, workflow: workflow.name, request: request, queuedAtMillis: clock.nowMillis(),
                                  schedule: schedule, nominal: fire.nominal, timeoutSeconds: target.timeoutSeconds))
            count(schedule) { $0.fired += 1 }
            log.info("schedule \(schedule) fired (\(describe(fire, schedule))): run \(fire.runID) of workflow \(workflow.name) queued")
        } catch {
            count(schedule) { $0.blocked += 1 }
            _ = try? events.record(type: "schedule.dispatch_failed", data: ["schedule": schedule, "error": "\(error)"], runID: fire.runID)
            log.error("schedule \(schedule) fired (\(describe(fire, schedule))) but run \(fire.runID) was refused: \(error)")
            pool.close(UnstartedRun(runID: fire.runID, workflow: workflowName, schedule: schedule), state: .failed,
                       error: "schedule \(schedule) could not start its run: \(error)")
        }
    }

    private func noteMissed(_ schedule: String, count: Int) {
        self.count(schedule) { $0.missed += count }
        _ = try? events.record(type: "schedule.missed", data: ["schedule": schedule], numbers: ["count": Int64(count)])
    }

    // MARK: runs in flight (told by the pool)

    /// A start gives the lateness; an end may release a buffered fire.
    func heard(_ exit: PoolExit) {
        switch exit {
        case .started(_, let schedule?, let nominal?, let atMillis):
            metrics.scheduleLateness(milliseconds: atMillis - nominal * 1000)
            count(schedule) { $0.lastStartMillis = atMillis }
        case .ended(let runID, let schedule?, _):
            carryOut(book.runEnded(runID, schedule: schedule))
        case .started, .ended:
            break
        }
    }

    // MARK: changes from the control API

    /// `sloth runs cancel` of a fire buffered behind its schedule's runs (the pool has never seen it).
    func cancelWaiting(_ runID: Int64, schedule: String) -> Bool {
        guard book.flights.runs(of: schedule).buffered.contains(runID) else { return false }
        pool.close(UnstartedRun(runID: runID, workflow: book.entry(schedule)?.payload.workflow ?? schedule, schedule: schedule),
                   state: .cancelled, error: "\(RunCancellation.Reason.user.message) before it started")
        return true
    }

    /// Takes a schedule's stored definition again (added, enabled, disabled).
    func reload(_ name: String) throws {
        load(try store.get(name))
        wake()
    }

    func removed(_ name: String) {
        carryOut(book.remove(name))
        counters[name] = nil
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
        guard let entry = book.entry(name), let action = book.trigger(name) else { throw ScheduleStore.Error.unknown(name) }
        let target = entry.payload
        var reason: String?
        if case .skip(let why) = action { reason = why }
        let version = (try? workflows.get(target.workflow, content: false)).map(\.version)
        guard let id = try store.record([.init(schedule: name, workflow: target.workflow, workflowVersion: version, nominal: nil,
                                               trigger: .manual, skipReason: reason, stack: target.stack)],
                                      advances: []).first ?? nil else {
            throw DispatchFailure(message: "the trigger was not recorded")
        }
        apply(action, fire: .init(runID: id, nominal: nil, trigger: .manual), schedule: name)
        return id
    }

    // MARK: views

    public struct Summary: Sendable {
        public var schedules: Int
        public var paused: Bool
        public var nextFireMillis: Int64?
        /// Why the database takes no writes, while it does not.
        public var databaseProblem: String? = nil
        /// Why the scheduler is paused, if the pause said.
        public var pauseNote: String? = nil
    }

    public func summary() -> Summary {
        Summary(schedules: book.count, paused: book.paused, nextFireMillis: book.nextWakeMillis(), databaseProblem: writeFailure?.reason,
                pauseNote: book.paused ? pauseNote : nil)
    }

    func nextStartMillis(_ name: String) -> Int64? { book.nextStartMillis(name) }

    // MARK: pieces

    private func load(_ schedule: ScheduleStore.Schedule) {
        do {
            book.set(try Self.rules(schedule), cursor: schedule.cursor, payload: Self.target(schedule))
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

    static func target(_ schedule: ScheduleStore.Schedule) -> Target {
        Target(workflow: schedule.workflow, tasks: schedule.tasks, params: schedule.params, timeoutSeconds: schedule.timeoutSeconds,
               stack: schedule.stack, delegateTo: schedule.delegateTo)
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

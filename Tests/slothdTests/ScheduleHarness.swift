import Catalog
import Foundation
import Runner
import Scheduler
import Synchronization
@testable import SlothdCore
import TestSupport

/// A pool that runs nothing: it records what the schedule service hands it, ends runs when the test
/// says, and reports every exit as the real pool does (the row first, then the exit).
final class RecordingPool: RunDispatch {
    private struct State {
        var submitted: [WorkerPool.Job] = []
        var open: Set<Int64> = []
        var cancelled: [(Int64, RunCancellation.Reason)] = []
        var pending: [PoolExit] = []
        var refusing = false
    }

    let exits: AsyncStream<PoolExit>
    private let sink: AsyncStream<PoolExit>.Continuation
    /// Each job handed over, as it is (for tests that run the service's loop).
    let submits: AsyncStream<Int64>
    private let submitSink: AsyncStream<Int64>.Continuation
    private let state = Mutex(State())
    private let runs: RunStore

    init(runs: RunStore) {
        self.runs = runs
        (exits, sink) = AsyncStream.makeStream()
        (submits, submitSink) = AsyncStream.makeStream()
    }

    var submitted: [WorkerPool.Job] { state.withLock { $0.submitted } }
    var submittedIDs: [Int64] { submitted.map(\.runID) }
    var cancelledIDs: [Int64] { state.withLock { $0.cancelled.map(\.0) } }
    func refuse(_ refusing: Bool) { state.withLock { $0.refusing = refusing } }

    func submit(_ job: WorkerPool.Job) throws(WorkerPool.Refusal) {
        let refused = state.withLock { state in
            guard !state.refusing else { return true }
            state.submitted.append(job)
            state.open.insert(job.runID)
            return false
        }
        if refused { throw .full(capacity: 0) }
        submitSink.yield(job.runID)
    }

    func cancel(_ runID: Int64, reason: RunCancellation.Reason) -> Bool {
        guard state.withLock({ $0.open.contains(runID) }) else { return false }
        state.withLock { $0.cancelled.append((runID, reason)) }
        end(runID, state: reason.state, error: reason.message)
        return true
    }

    func close(_ run: UnstartedRun, state: RunState, error: String) {
        _ = try? runs.end(run.runID, .init(state: state, error: error))
        report(.ended(runID: run.runID, schedule: run.schedule, state: state))
    }

    /// A worker took the run.
    func start(_ runID: Int64, atMillis: Int64) {
        guard let job = submitted.first(where: { $0.runID == runID }) else { return }
        _ = try? runs.markStarted(runID, declaredVersion: nil)
        report(.started(runID: runID, schedule: job.schedule, nominal: job.nominal, atMillis: atMillis))
    }

    /// The run ended (succeeded unless told otherwise).
    func end(_ runID: Int64, state: RunState = .succeeded, error: String? = nil) {
        let schedule = state.isFinished ? self.state.withLock { s -> String?? in
            guard s.open.remove(runID) != nil else { return nil }
            return .some(s.submitted.first { $0.runID == runID }?.schedule)
        } : nil
        guard let schedule else { return }
        _ = try? runs.end(runID, .init(state: state, error: error))
        report(.ended(runID: runID, schedule: schedule, state: state))
    }

    private func report(_ exit: PoolExit) {
        state.withLock { $0.pending.append(exit) }
        sink.yield(exit)
    }

    /// Hands the exits reported so far to the service, as its loop would (tests that do not run the loop).
    func deliver(to service: ScheduleService) async {
        while true {
            let next = state.withLock { $0.pending.isEmpty ? nil : $0.pending.removeFirst() }
            guard let next else { return }
            await service.heard(next)
        }
    }
}

/// A schedule service on a fresh database, a manual clock and a recording pool.
final class ScheduleHarness: Sendable {
    let clock: ManualClock
    let database: CatalogDatabase
    let pool: RecordingPool
    let service: ScheduleService
    private let log: LogLines
    var lines: [String] { log.lines.withLock { $0 } }

    var runs: RunStore { RunStore(database: database) }
    var schedules: ScheduleStore { ScheduleStore(database: database) }

    init(at start: String = "2026-06-01T12:00:00Z") throws {
        let clock = ManualClock(nowMillis: Self.millis(start))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-schedule-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try CatalogDatabase(path: directory.appendingPathComponent("slothd.db").path, now: { clock.nowMillis() })
        _ = try WorkflowStore(database: database).add(.init(name: "job", content: "task('t'):command('true')", 
                                                            filePath: nil, description: nil, tags: [], active: true))
        let recording = RecordingPool(runs: RunStore(database: database))
        let lines = LogLines()
        let log = DaemonLog(journal: false) { line in lines.lines.withLock { $0.append(line) } }
        (self.clock, self.database, self.pool, self.log) = (clock, database, recording, lines)
        service = ScheduleService(database: database, pool: recording, metrics: DaemonMetrics(), log: log, clock: clock)
    }

    /// Stores a schedule whose cursor is `cursor` (default: now), as `scheduler add` does.
    func add(_ name: String, cron: String, overlap: OverlapPolicy = .skip, catchup: CatchupPolicy = .latest,
             cursor: String? = nil, timeoutSeconds: Int64? = nil) throws {
        let from = (cursor.map(Self.millis) ?? clock.nowMillis()) / 1000
        _ = try schedules.add(.init(name: name, workflow: "job", cron: cron, zone: "UTC", tasks: [], params: [:], overlap: overlap.rawValue,
                                    catchup: catchup.rawValue, catchupWindowSeconds: 86_400, jitterSeconds: 0, timeoutSeconds: timeoutSeconds,
                                    description: nil, enabled: true, cursor: from))
    }

    /// Moves the clock and lets the service plan, as its timer would.
    func at(_ time: String) async {
        clock.set(Self.millis(time))
        await service.tick()
    }

    func states(_ schedule: String) throws -> [String] {
        try runs.list(.init(schedule: schedule, limit: 100)).reversed().map(\.state.rawValue)
    }

    func deliver() async { await pool.deliver(to: service) }

    static func millis(_ time: String) -> Int64 { RFC3339.millis(time)! }
}

final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
}

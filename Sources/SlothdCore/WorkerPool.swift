import Catalog
import Foundation
import Runner
import Scheduler

/// N workers over a bounded queue of runs. Submitting never blocks: a full queue is refused at once.
/// Every run that enters ends here, once: run, cancelled while queued, dropped at shutdown, or closed
/// before it was ever handed over. Each end is written by `RunStore.end`, counted, logged, rung to
/// log followers and reported on `exits`.
///
/// Each worker is a thread of its own that takes the next run and executes it in place: Lua blocks while
/// it waits for its operations, so runs must stay off Swift's cooperative threads, and handing every run
/// from a task to a thread and back costs as much as a trivial run's bookkeeping.
public final class WorkerPool: RunDispatch, @unchecked Sendable {
    public enum Refusal: Error, CustomStringConvertible {
        case full(capacity: Int)
        case stopping
        public var description: String {
            switch self {
            case .full(let capacity): "the run queue is full (\(capacity) runs waiting); try again later or raise --queue"
            case .stopping: "slothd is shutting down and takes no new runs"
            }
        }
    }

    /// Rung whenever a run's log lines are stored and when it ends.
    let logBell = LogBell()
    /// Every start and end of a run, in order (the schedule service keeps its runs in flight by it).
    public let exits: AsyncStream<PoolExit>
    private let exitSink: AsyncStream<PoolExit>.Continuation

    private let runner: WorkflowRunner
    private let runs: RunStore
    private let metrics: DaemonMetrics
    private let log: DaemonLog
    private let clock: any SchedulerClock
    /// Guards every field below; workers wait on it for jobs, drain for the last run's end.
    private let condition = NSCondition()
    private var workerLimit: Int
    private var queueCapacity: Int
    private var threads = 0
    private var queue = JobQueue()
    /// Places promised to callers that are recording their run.
    private var reserved = 0
    private var running: [Int64: Active] = [:]
    private var accepting = true
    private var idleWaiters: [IdleWait] = []

    /// A run a worker is running.
    struct Active {
        var cancellation: RunCancellation
        var workflow: String
        var schedule: String?
        /// Milliseconds since 1970.
        var startedAt: Int64
    }

    public init(workers: Int, capacity: Int, runner: WorkflowRunner, runs: RunStore, metrics: DaemonMetrics, log: DaemonLog,
                clock: any SchedulerClock = WallClock()) {
        (workerLimit, queueCapacity, self.runner, self.runs, self.metrics, self.log, self.clock) = (workers, capacity, runner, runs, metrics, log, clock)
        (exits, exitSink) = AsyncStream.makeStream()
    }

    public var workers: Int { locked { workerLimit } }
    public var capacity: Int { locked { queueCapacity } }
    public var busy: Int { locked { running.count } }
    public var queued: Int { locked { queue.count } }
    /// The running runs by id, oldest first.
    var active: [(id: Int64, run: Active)] {
        locked { running.map { (id: $0.key, run: $0.value) }.sorted { ($0.run.startedAt, $0.id) < ($1.run.startedAt, $1.id) } }
    }

    public func submit(_ job: Job) throws(Refusal) {
        try submit(job, using: reserve())
    }

    /// A place in the queue, held before anything about the run is recorded, so a refused run leaves
    /// nothing behind; it must be used or released.
    public struct Reservation: ~Copyable {}

    public func reserve() throws(Refusal) -> Reservation {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { throw .stopping }
        guard queue.count + reserved < queueCapacity else { throw .full(capacity: queueCapacity) }
        reserved += 1
        return Reservation()
    }

    public func release(_ reservation: consuming Reservation) {
        locked { reserved -= 1 }
    }

    /// Never refuses: the place was reserved (a run reserved before shutdown still drains as interrupted).
    public func submit(_ job: Job, using reservation: consuming Reservation) {
        condition.lock()
        defer { condition.unlock() }
        reserved -= 1
        queue.append(job)
        startWorkers()
        condition.signal()
        metrics.pool(queued: queue.count, busy: running.count)
    }

    /// New limits from a reloaded configuration: more workers start at once; fewer take effect as runs end.
    public func resize(workers: Int, capacity: Int) {
        locked {
            (workerLimit, queueCapacity) = (workers, capacity)
            startWorkers()
            condition.broadcast()
        }
    }

    /// Cancels a queued or running run for `reason`; false if it is neither. A queued run ends here.
    public func cancel(_ runID: Int64, reason: RunCancellation.Reason) -> Bool {
        let (queued, cancellation) = locked { () -> (Job?, RunCancellation?) in
            if let job = queue.remove(runID) { return (job, nil) }
            return (nil, running[runID]?.cancellation)
        }
        if let queued { end(queued.unstarted, state: reason.state, error: "\(reason.message) before it started", finished: queued.finished) }
        cancellation?.cancel(reason)
        return queued != nil || cancellation != nil
    }

    /// A recorded run that will never reach a worker (its schedule was removed, it was replaced, the pool
    /// refused it) ends as any other.
    public func close(_ run: UnstartedRun, state: RunState, error: String) {
        end(run, state: state, error: error, finished: nil)
    }

    /// Stops taking runs, drops the queue (recorded as interrupted), waits `grace` for running runs,
    /// then cancels them; returns when every worker is idle.
    public func drain(grace: Duration) async {
        let dropped = locked {
            accepting = false
            return queue.removeAll()
        }
        for job in dropped { end(job.unstarted, state: .interrupted, error: "slothd stopped before the run started", finished: job.finished) }
        guard await idle(within: grace) == false else { return finishExits() }
        let cut = locked { running.values.map(\.cancellation) }
        cut.forEach { $0.cancel(.shutdown) }
        // A run stuck in a system call cannot be stopped from here: past the teardown grace, slothd
        // exits anyway and the next start records it as interrupted and kills its process groups.
        _ = await idle(within: .seconds(Int(WorkflowRunner.teardownGraceSeconds) + 5))
        finishExits()
    }

    private func finishExits() { exitSink.finish() }

    /// True once no run is running, false if `limit` passed first.
    private func idle(within limit: Duration) async -> Bool {
        let wait = IdleWait()
        let deadline = Task { [self] in
            try? await Task.sleep(for: limit)
            locked { wait.take() }?.resume()
        }
        defer { deadline.cancel() }
        await withCheckedContinuation { continuation in
            let now = locked { () -> Bool in
                if running.isEmpty || wait.done { return true }
                wait.continuation = continuation
                idleWaiters.append(wait)
                return false
            }
            if now { continuation.resume() }
        }
        return busy == 0
    }

    /// One `idle` call's waiting, resumed once: by the last run's end or by the deadline (under the lock).
    private final class IdleWait: @unchecked Sendable {
        var done = false
        var continuation: CheckedContinuation<Void, Never>?
        func take() -> CheckedContinuation<Void, Never>? {
            done = true
            defer { continuation = nil }
            return continuation
        }
    }

    // MARK: workers

    /// Called with the lock held.
    private func startWorkers() {
        while threads < workerLimit {
            threads += 1
            let thread = Thread { [self] in work() }
            thread.stackSize = 16 << 20
            thread.name = "slothd worker"
            thread.start()
        }
    }

    private func work() {
        condition.lock()
        while true {
            while queue.isEmpty || running.count >= workerLimit {
                if threads > workerLimit {
                    threads -= 1
                    condition.unlock()
                    return
                }
                condition.wait()
            }
            let job = queue.removeFirst()
            let cancellation = RunCancellation()
            let startedAt = clock.nowMillis()
            running[job.runID] = Active(cancellation: cancellation, workflow: job.workflow, schedule: job.schedule, startedAt: startedAt)
            metrics.pool(queued: queue.count, busy: running.count)
            condition.unlock()
            exitSink.yield(.started(runID: job.runID, schedule: job.schedule, nominal: job.nominal, atMillis: startedAt))
            execute(job, cancellation)
            condition.lock()
            running[job.runID] = nil
            metrics.pool(queued: queue.count, busy: running.count)
            if running.isEmpty {
                let waiting = idleWaiters.compactMap { $0.take() }
                idleWaiters.removeAll()
                waiting.forEach { $0.resume() }
            }
        }
    }

    /// Runs the job on this thread. A timeout or a shutdown is the cancellation's reason, which the
    /// runner records as the run's state; a run that could not start at all is ended here.
    private func execute(_ job: Job, _ cancellation: RunCancellation) {
        let timer = job.timeoutSeconds.map { seconds in
            Task { [clock] in
                try await clock.sleep(milliseconds: seconds * 1000)
                cancellation.cancel(.timeout(seconds: seconds))
            }
        }
        defer { timer?.cancel() }
        var request = job.request
        request.logsStored = { [logBell] in logBell.ring(job.runID) }
        do {
            let ran = try runner.runOnCurrentThread(request, cancellation: cancellation)
            reportEnd(job.unstarted, state: ran.state, error: ran.error, duration: .milliseconds(clock.nowMillis() - job.queuedAtMillis))
            job.finished?(ran)
        } catch let failure {
            // The runner ends a run whose file failed to load; anything else is ended here.
            let (state, error) = (cancellation.reason?.state ?? .failed, cancellation.reason?.message ?? failure.description)
            _ = try? runs.end(job.runID, .init(state: state, error: error))
            reportEnd(job.unstarted, state: state, error: error, duration: .milliseconds(clock.nowMillis() - job.queuedAtMillis))
            job.finished?(nil)
        }
    }

    /// Ends a run that has no report: its row first, then what `reportEnd` tells.
    private func end(_ run: UnstartedRun, state: RunState, error: String, finished: (@Sendable (RunReport?) -> Void)?) {
        if (try? runs.end(run.runID, .init(state: state, error: error))) == false { return }
        reportEnd(run, state: state, error: error, duration: .zero)
        finished?(nil)
    }

    /// The daemon's log line, the metrics, the log followers and the exit stream hear of an end.
    private func reportEnd(_ run: UnstartedRun, state: RunState, error: String?, duration: Duration) {
        log.runEnded(run.runID, workflow: run.workflow, schedule: run.schedule, state: state, duration: duration, error: error)
        metrics.runEnded(workflow: run.workflow, state: state, duration: duration)
        logBell.ring(run.runID)
        logBell.forget(run.runID)
        exitSink.yield(.ended(runID: run.runID, schedule: run.schedule, state: state))
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}

import Catalog
import Foundation
import Runner
import Scheduler

/// N workers over a bounded queue of runs. Submitting never blocks: a full queue is refused at once.
///
/// Each worker is a thread of its own that takes the next run and executes it in place: Lua blocks while
/// it waits for its operations, so runs must stay off Swift's cooperative threads, and handing every run
/// from a task to a thread and back costs as much as a trivial run's bookkeeping.
final class WorkerPool: @unchecked Sendable {
    enum Refusal: Error, CustomStringConvertible {
        case full(capacity: Int)
        case stopping
        var description: String {
            switch self {
            case .full(let capacity): "the run queue is full (\(capacity) runs waiting); try again later or raise --queue"
            case .stopping: "slothd is shutting down and takes no new runs"
            }
        }
    }

    struct Job: Sendable {
        var runID: Int64
        /// The catalog name, for the metrics.
        var workflow: String
        var request: RunRequest
        var queuedAt = ContinuousClock.now
        /// A scheduled run's schedule and nominal time (seconds since 1970).
        var schedule: String? = nil
        var nominal: Int64? = nil
        /// The run is cancelled and recorded `timed_out` past this many seconds.
        var timeoutSeconds: Int64? = nil
        /// Told how the run ended: its report, or nil when it ended without one (cancelled while
        /// queued, dropped at shutdown, or it could not start).
        var finished: (@Sendable (RunReport?) -> Void)? = nil
    }

    /// Told when runs start and end (the scheduler keeps its runs in flight with it).
    var observer: (any WorkerPoolObserver)?
    /// Rung whenever a run's log lines are stored and when it ends.
    let logBell = LogBell()

    private let runner: WorkflowRunner
    private let runs: RunStore
    private let metrics: DaemonMetrics
    private let log: DaemonLog
    /// Guards every field below; workers wait on it for jobs.
    private let condition = NSCondition()
    private var workerLimit: Int
    private var queueCapacity: Int
    private var threads = 0
    private var queue: [Job] = []
    /// Places promised to callers that are recording their run.
    private var reserved = 0
    private var running: [Int64: Active] = [:]
    private var accepting = true

    /// A run a worker is running.
    struct Active {
        var cancellation: RunCancellation
        var workflow: String
        var schedule: String?
        /// Milliseconds since 1970.
        var startedAt: Int64
    }

    init(workers: Int, capacity: Int, runner: WorkflowRunner, runs: RunStore, metrics: DaemonMetrics, log: DaemonLog) {
        (workerLimit, queueCapacity, self.runner, self.runs, self.metrics, self.log) = (workers, capacity, runner, runs, metrics, log)
    }

    var workers: Int { locked { workerLimit } }
    var capacity: Int { locked { queueCapacity } }
    var busy: Int { locked { running.count } }
    var queued: Int { locked { queue.count } }
    /// The running runs by id, oldest first.
    var active: [(id: Int64, run: Active)] {
        locked { running.map { (id: $0.key, run: $0.value) }.sorted { ($0.run.startedAt, $0.id) < ($1.run.startedAt, $1.id) } }
    }

    func submit(_ job: Job) throws(Refusal) {
        try submit(job, using: reserve())
    }

    /// A place in the queue, held before anything about the run is recorded, so a refused run leaves
    /// nothing behind; it must be used or released.
    struct Reservation: ~Copyable {}

    func reserve() throws(Refusal) -> Reservation {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { throw .stopping }
        guard queue.count + reserved < queueCapacity else { throw .full(capacity: queueCapacity) }
        reserved += 1
        return Reservation()
    }

    func release(_ reservation: consuming Reservation) {
        locked { reserved -= 1 }
    }

    /// Never refuses: the place was reserved (a run reserved before shutdown still drains as interrupted).
    func submit(_ job: Job, using reservation: consuming Reservation) {
        condition.lock()
        defer { condition.unlock() }
        reserved -= 1
        queue.append(job)
        startWorkers()
        condition.signal()
        metrics.pool(queued: queue.count, busy: running.count)
    }

    /// New limits from a reloaded configuration: more workers start at once; fewer take effect as runs end.
    func resize(workers: Int, capacity: Int) {
        locked {
            (workerLimit, queueCapacity) = (workers, capacity)
            startWorkers()
            condition.broadcast()
        }
    }

    /// Cancels a queued or running run; false if it is neither. A queued run ends here, and the
    /// observer hears of it as of any other end (its schedule no longer counts it in flight).
    func cancel(_ runID: Int64) -> Bool {
        let (queued, cancellation) = locked { () -> (Job?, RunCancellation?) in
            if let index = queue.firstIndex(where: { $0.runID == runID }) { return (queue.remove(at: index), nil) }
            return (nil, running[runID]?.cancellation)
        }
        if let queued {
            try? runs.close(runID, state: .cancelled, error: "cancelled before it started")
            ended(runID)
            observer?.runEnded(queued, state: .cancelled)
            queued.finished?(nil)
        }
        cancellation?.cancel()
        return queued != nil || cancellation != nil
    }

    /// Stops taking runs, drops the queue (recorded as interrupted), waits `grace` for running runs,
    /// then cancels them; returns when every worker is idle.
    func drain(grace: Duration) async {
        let dropped = locked {
            accepting = false
            defer { queue.removeAll() }
            return queue
        }
        for job in dropped {
            try? runs.close(job.runID, state: .interrupted, error: "slothd stopped before the run started")
            ended(job.runID)
            job.finished?(nil)
        }
        let deadline = ContinuousClock.now + grace
        while busy > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        let cut = locked { running.values.map(\.cancellation) }
        cut.forEach { $0.cancel(.shutdown) }
        // A run stuck in a system call cannot be stopped from here: past the teardown grace, slothd
        // exits anyway and the next start records it as interrupted and kills its process groups.
        let last = ContinuousClock.now + .seconds(Int(WorkflowRunner.teardownGraceSeconds) + 5)
        while busy > 0 && ContinuousClock.now < last { try? await Task.sleep(for: .milliseconds(20)) }
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
            running[job.runID] = Active(cancellation: cancellation, workflow: job.workflow, schedule: job.schedule,
                                        startedAt: CatalogDatabase.systemMillis())
            metrics.pool(queued: queue.count, busy: running.count)
            condition.unlock()
            execute(job, cancellation)
            condition.lock()
            running[job.runID] = nil
            metrics.pool(queued: queue.count, busy: running.count)
        }
    }

    /// Runs the job on this thread and records how it ended (a timeout or a shutdown is the
    /// cancellation's reason, which the runner records as the run's state). Every run that started ends
    /// here: this is where the daemon's log says how.
    private func execute(_ job: Job, _ cancellation: RunCancellation) {
        observer?.runStarted(job)
        let began = ContinuousClock.now
        let timer = job.timeoutSeconds.map { Timeout(seconds: $0, cancellation: cancellation) }
        defer {
            timer?.stop()
            ended(job.runID)
        }
        var request = job.request
        request.logsStored = { [logBell] in logBell.ring(job.runID) }
        var state: RunState
        var error: String?
        var report: RunReport?
        do {
            let ran = try runner.runOnCurrentThread(request, cancellation: cancellation)
            (state, error, report) = (ran.state, ran.error, ran)
        } catch let failure {
            state = cancellation.reason?.state ?? .failed
            let message = cancellation.reason?.message ?? failure.description
            error = message
            try? runs.close(job.runID, state: state, error: message)
        }
        log.runEnded(job.runID, workflow: job.workflow, schedule: job.schedule, state: state, duration: ContinuousClock.now - began,
                     error: error)
        metrics.runEnded(workflow: job.workflow, state: state, duration: ContinuousClock.now - job.queuedAt)
        observer?.runEnded(job, state: state)
        job.finished?(report)
    }

    /// Followers of the run's log learn that it ended.
    private func ended(_ runID: Int64) {
        logBell.ring(runID)
        logBell.forget(runID)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}

protocol WorkerPoolObserver: Sendable {
    func runStarted(_ job: WorkerPool.Job)
    func runEnded(_ job: WorkerPool.Job, state: RunState)
}

/// Cancels a run that outlives its timeout.
private final class Timeout: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    init(seconds: Int64, cancellation: RunCancellation) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(seconds))) { [weak self] in
            guard let self, !lock.withLock({ stopped }) else { return }
            cancellation.cancel(.timeout(seconds: seconds))
        }
    }

    func stop() { lock.withLock { stopped = true } }
}

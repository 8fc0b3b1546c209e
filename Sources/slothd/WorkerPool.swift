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
    }

    /// Told when runs start and end (the scheduler keeps its runs in flight with it).
    var observer: (any WorkerPoolObserver)?

    private let runner: WorkflowRunner
    private let runs: RunStore
    private let metrics: DaemonMetrics
    /// Guards every field below; workers wait on it for jobs.
    private let condition = NSCondition()
    private var workerLimit: Int
    private var queueCapacity: Int
    private var threads = 0
    private var queue: [Job] = []
    private var running: [Int64: RunCancellation] = [:]
    private var accepting = true
    private var stoppedByShutdown: Set<Int64> = []

    init(workers: Int, capacity: Int, runner: WorkflowRunner, runs: RunStore, metrics: DaemonMetrics) {
        (workerLimit, queueCapacity, self.runner, self.runs, self.metrics) = (workers, capacity, runner, runs, metrics)
    }

    var workers: Int { locked { workerLimit } }
    var capacity: Int { locked { queueCapacity } }
    var busy: Int { locked { running.count } }
    var queued: Int { locked { queue.count } }

    func submit(_ job: Job) throws(Refusal) {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { throw .stopping }
        guard queue.count < queueCapacity else { throw .full(capacity: queueCapacity) }
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

    /// Cancels a queued or running run; false if it is neither.
    func cancel(_ runID: Int64) -> Bool {
        let (wasQueued, cancellation) = locked { () -> (Bool, RunCancellation?) in
            if let index = queue.firstIndex(where: { $0.runID == runID }) {
                queue.remove(at: index)
                return (true, nil)
            }
            return (false, running[runID])
        }
        if wasQueued { try? runs.close(runID, state: "cancelled", error: "cancelled before it started") }
        cancellation?.cancel()
        return wasQueued || cancellation != nil
    }

    /// Stops taking runs, drops the queue (recorded as interrupted), waits `grace` for running runs,
    /// then cancels them; returns when every worker is idle.
    func drain(grace: Duration) async {
        let dropped = locked {
            accepting = false
            defer { queue.removeAll() }
            return queue
        }
        for job in dropped { try? runs.close(job.runID, state: "interrupted", error: "slothd stopped before the run started") }
        let deadline = ContinuousClock.now + grace
        while busy > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        let cut = locked {
            stoppedByShutdown.formUnion(running.keys)
            return Array(running.values)
        }
        cut.forEach { $0.cancel() }
        while busy > 0 { try? await Task.sleep(for: .milliseconds(20)) }
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
            running[job.runID] = cancellation
            metrics.pool(queued: queue.count, busy: running.count)
            condition.unlock()
            execute(job, cancellation)
            condition.lock()
            running[job.runID] = nil
            metrics.pool(queued: queue.count, busy: running.count)
        }
    }

    /// Runs the job on this thread and records how it ended.
    private func execute(_ job: Job, _ cancellation: RunCancellation) {
        observer?.runStarted(job)
        let timer = job.timeoutSeconds.map { Timeout(seconds: $0, cancellation: cancellation) }
        var state: String
        do {
            state = try runner.runOnCurrentThread(job.request, cancellation: cancellation).state
        } catch {
            state = "failed"
            try? runs.close(job.runID, state: state, error: error.description)
        }
        if locked({ stoppedByShutdown.remove(job.runID) != nil }) {
            state = "interrupted"
            try? runs.relabel(job.runID, state: state, error: "slothd stopped while the run was running")
        } else if let timer, timer.stop() {
            state = "timed_out"
            try? runs.relabel(job.runID, state: state, error: "timed out after \(CronDuration.text(seconds: timer.seconds)) (the schedule's --timeout)")
        }
        metrics.runEnded(workflow: job.workflow, state: state, duration: ContinuousClock.now - job.queuedAt)
        observer?.runEnded(job, state: state)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}

protocol WorkerPoolObserver: Sendable {
    func runStarted(_ job: WorkerPool.Job)
    func runEnded(_ job: WorkerPool.Job, state: String)
}

/// Cancels a run that outlives its timeout; `stop` says whether it fired.
private final class Timeout: @unchecked Sendable {
    let seconds: Int64
    private let lock = NSLock()
    private var fired = false
    private var stopped = false

    init(seconds: Int64, cancellation: RunCancellation) {
        self.seconds = seconds
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(seconds))) { [weak self] in
            guard let self, lock.withLock({ () -> Bool in
                fired = !stopped
                return fired
            }) else { return }
            cancellation.cancel()
        }
    }

    func stop() -> Bool {
        lock.withLock {
            stopped = true
            return fired
        }
    }
}

import Catalog
import Foundation
import Runner

/// N workers over a bounded queue of runs. Submitting never blocks: a full queue is refused at once.
actor WorkerPool {
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
        var request: RunRequest
    }

    private(set) var workers: Int
    private(set) var capacity: Int
    private let runner: WorkflowRunner
    private let runs: RunStore
    private let metrics: DaemonMetrics
    private var queue: [Job] = []
    private var running: [Int64: RunCancellation] = [:]
    private var accepting = true
    private var stoppedByShutdown: Set<Int64> = []
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(workers: Int, capacity: Int, runner: WorkflowRunner, runs: RunStore, metrics: DaemonMetrics) {
        (self.workers, self.capacity, self.runner, self.runs, self.metrics) = (workers, capacity, runner, runs, metrics)
    }

    var busy: Int { running.count }
    var queued: Int { queue.count }

    func submit(_ job: Job) throws(Refusal) {
        guard accepting else { throw .stopping }
        guard queue.count < capacity else { throw .full(capacity: capacity) }
        queue.append(job)
        startNext()
        metrics.pool(queued: queue.count, busy: running.count)
    }

    /// New limits from a reloaded configuration: more workers start at once; fewer take effect as runs end.
    func resize(workers: Int, capacity: Int) {
        (self.workers, self.capacity) = (workers, capacity)
        startNext()
    }

    /// Cancels a queued or running run; false if it is neither.
    func cancel(_ runID: Int64) -> Bool {
        if let index = queue.firstIndex(where: { $0.runID == runID }) {
            queue.remove(at: index)
            try? runs.close(runID, state: "cancelled", error: "cancelled before it started")
            return true
        }
        guard let cancellation = running[runID] else { return false }
        cancellation.cancel()
        return true
    }

    /// Stops taking runs, drops the queue (recorded as interrupted), waits `grace` for running runs,
    /// then cancels them; returns when every worker is idle.
    func drain(grace: Duration) async {
        accepting = false
        for job in queue { try? runs.close(job.runID, state: "interrupted", error: "slothd stopped before the run started") }
        queue.removeAll()
        guard !running.isEmpty else { return }
        let deadline = ContinuousClock.now + grace
        while !running.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for (runID, cancellation) in running {
            stoppedByShutdown.insert(runID)
            cancellation.cancel()
        }
        while !running.isEmpty { await withCheckedContinuation { idleWaiters.append($0) } }
    }

    private func startNext() {
        while running.count < workers, !queue.isEmpty {
            let job = queue.removeFirst()
            let cancellation = RunCancellation()
            running[job.runID] = cancellation
            Task { await execute(job, cancellation) }
        }
        metrics.pool(queued: queue.count, busy: running.count)
    }

    private func execute(_ job: Job, _ cancellation: RunCancellation) async {
        do {
            _ = try await runner.run(job.request, cancellation: cancellation)
        } catch {
            try? runs.close(job.runID, state: "failed", error: error.description)
        }
        if stoppedByShutdown.remove(job.runID) != nil {
            try? runs.relabel(job.runID, state: "interrupted", error: "slothd stopped while the run was running")
        }
        if let record = try? runs.run(job.runID) {
            let seconds = Double((record.endedAt ?? record.queuedAt) - record.queuedAt) / 1000
            metrics.runEnded(workflow: record.workflow, state: record.state, duration: .milliseconds(Int64(seconds * 1000)))
        }
        running[job.runID] = nil
        if running.isEmpty {
            idleWaiters.forEach { $0.resume() }
            idleWaiters.removeAll()
        }
        startNext()
    }
}

import Catalog
import Foundation
import Runner
import Synchronization
import Testing
@testable import slothd

@Suite("The worker pool")
struct WorkerPoolTests {
    final class Recorder: WorkerPoolObserver {
        let ended = Mutex<[String]>([])
        func runStarted(_ job: WorkerPool.Job) {}
        func runEnded(_ job: WorkerPool.Job, state: RunState) { ended.withLock { $0.append("\(job.runID) \(state.rawValue)") } }
    }

    @Test("cancelling a queued run tells the observer it ended cancelled, so its schedule no longer counts it in flight")
    func queuedCancelIsAnEnd() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-pool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try CatalogDatabase(path: directory.appendingPathComponent("slothd.db").path)
        let runs = RunStore(database: database)
        let pool = WorkerPool(workers: 1, capacity: 10, runner: WorkflowRunner(database: database, echo: nil, environment: [:]),
                              runs: runs, metrics: DaemonMetrics(), log: DaemonLog(journal: false) { _ in })
        let recorder = Recorder()
        pool.observer = recorder
        func submit(_ command: String) throws -> Int64 {
            let id = try runs.queue(.init(workflow: "w", workflowVersion: nil, trigger: .schedule)).id
            var request = RunRequest(file: "w.sloth", source: "task('t'):command('\(command)')")
            request.queuedRunID = id
            try pool.submit(.init(runID: id, workflow: "w", request: request, schedule: "nightly"))
            return id
        }
        // One worker: the long run holds it (or is about to), so the second waits in the queue.
        let long = try submit("sleep 377")
        let waiting = try submit("true")
        #expect(pool.cancel(waiting))
        #expect(recorder.ended.withLock { $0 } == ["\(waiting) cancelled"])
        #expect(try runs.run(waiting)?.state == .cancelled)
        #expect(pool.cancel(long))
    }
}

import Catalog
import Foundation
import Runner
import Testing
@testable import SlothdCore

@Suite("The worker pool")
struct WorkerPoolTests {
    @Test("cancelling a queued run reports its end on the exit stream, so its schedule no longer counts it in flight")
    func queuedCancelIsAnEnd() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-pool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try CatalogDatabase(path: directory.appendingPathComponent("slothd.db").path)
        let runs = RunStore(database: database)
        let pool = WorkerPool(workers: 1, capacity: 10, runner: WorkflowRunner(database: database, echo: nil, environment: [:]),
                              runs: runs, metrics: DaemonMetrics(), log: DaemonLog(journal: false) { _ in })
        func submit(_ command: String) throws -> Int64 {
            let id = try runs.queue(.init(workflow: "w", workflowVersion: nil, trigger: .schedule)).id
            var request = RunRequest(file: "w.sloth", source: "task('t'):command('\(command)')")
            request.queuedRunID = id
            try pool.submit(.init(runID: id, workflow: "w", request: request, queuedAtMillis: 0, schedule: "nightly"))
            return id
        }
        // One worker: the long run holds it (or is about to), so the second waits in the queue.
        let long = try submit("sleep 377")
        let waiting = try submit("true")
        #expect(pool.cancel(waiting, reason: .user))
        #expect(try runs.run(waiting)?.state == .cancelled)
        #expect(pool.cancel(long, reason: .user))
        var ended: [PoolExit] = []
        for await exit in pool.exits {
            if case .ended = exit { ended.append(exit) }
            if ended.count == 2 { break }
        }
        #expect(ended.first == .ended(runID: waiting, schedule: "nightly", state: .cancelled))
        #expect(ended.last == .ended(runID: long, schedule: "nightly", state: .cancelled))
    }
}

import Catalog
import Foundation
import Runner

extension AgentHub {
    /// How long after its start the master waits for agents to report the tasks a previous master left
    /// them: twice the agents' longest reconnect backoff.
    public static let adoptionMillis: Int64 = 60_000

    /// Tasks a previous master left running on agents (it was killed, or stopped while they ran): their
    /// runs ended with it, but each task keeps its lease here until its agent reconnects and reports it —
    /// then its result is recorded on the run once — or is lost `adoptionMillis` after this start.
    /// An agent that reconnects without the task has it lost at once. Returns how many were adopted.
    @discardableResult
    public func adopt(within millis: Int64 = adoptionMillis) -> Int {
        guard let rows = try? leaseStore.all(), !rows.isEmpty else { return 0 }
        let runs = RunStore(database: database)
        for row in rows {
            try? runs.appendLogs(run: row.runID, [RunStore.LogLine(
                at: database.now(), level: "warn", task: row.task,
                message: "slothd restarted while agent \(row.agent) ran this task: its result is recorded when the agent reports it (within \(millis / 1000) s)",
                fieldsJSON: nil)])
        }
        adoptRows(rows, runs: runs)
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(millis))
            for row in rows {
                self?.end(row.lease, DelegationResult(
                    success: false, error: "agent_lost: agent \(row.agent) did not report the task within \(millis / 1000) s of slothd's restart"))
            }
        }
        return rows.count
    }

    private func adoptRows(_ rows: [AgentLeaseStore.Lease], runs: RunStore) {
        let store = leaseStore, database = database
        let adopted = rows.map { row in
            var lease = Lease(row: row, log: { lines in
                try? runs.appendLogs(run: row.runID, lines.map {
                    RunStore.LogLine(at: database.now(), level: $0.level, task: row.task, stream: $0.stream, message: $0.message,
                                     fieldsJSON: $0.fieldsJSON)
                })
            }, mask: { _ in }, finish: { result in
                _ = try? store.settle(row, .init(success: result.success, error: result.error, outputJSON: result.outputJSON,
                                             exitCode: result.exitCode))
            }, secrets: [], acknowledged: true, offeredAt: now())
            lease.adopted = true
            return lease
        }
        insert(adopted)
    }
}

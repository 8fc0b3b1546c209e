import GRDB

/// The event rows of a run that did not succeed (SPEC section 9): `workflow.failed|cancelled|timeout` and one
/// `task.failed|timeout|cancelled` per such task, written inside the transaction that finishes it,
/// with its id and stack, so hooks can act on them. Successful runs are in the run history and write
/// no event row: one more row per run cost about a tenth of the daemon's throughput on trivial runs.
enum RunEvents {
    static func finished(_ db: Database, run id: Int64, state: RunState, error: String?, tasks: [RunStore.TaskResult], at now: Int64) throws {
        guard state != .succeeded else { return }
        let failed = tasks.filter { [.failed, .timedOut].contains($0.status) }.map(\.name)
        try db.execute(cached: """
            INSERT INTO events(type, at, run_id, stack, data_json)
            SELECT ?1, ?2, id, stack, json_object('workflow_name', workflow, 'workflow_id', id, 'state', ?3,
                   'duration_ms', ?2 - coalesce(started_at, queued_at), 'error', ?4, 'failed_tasks', json(?5))
            FROM runs WHERE id = ?6
            """, [workflowType(state), now, state, error, json(failed), id])
        for task in tasks {
            guard let type = taskType(task.status) else { continue }
            try db.execute(cached: """
                INSERT INTO events(type, at, run_id, stack, data_json)
                SELECT ?1, ?2, id, stack, json_object('task_name', ?3, 'workflow_name', workflow, 'workflow_id', id, 'status', ?4,
                       'duration_ms', ?5, 'attempts', ?6, 'error', ?7)
                FROM runs WHERE id = ?8
                """, [type, now, task.name, task.status, task.durationMillis, task.attempts, task.error, id])
        }
    }

    /// A run stopped by its schedule's `--timeout` is `workflow.timeout`, like `task.timeout`.
    static func workflowType(_ state: RunState) -> String {
        switch state {
        case .cancelled, .interrupted: "workflow.cancelled"
        case .timedOut: "workflow.timeout"
        default: "workflow.failed"
        }
    }

    static func taskType(_ status: TaskStatus) -> String? {
        switch status {
        case .failed: "task.failed"
        case .timedOut: "task.timeout"
        case .cancelled: "task.cancelled"
        case .success, .skipped: nil
        }
    }

    private static func json(_ names: [String]) -> String {
        "[" + names.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "]"
    }
}

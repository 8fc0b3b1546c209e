import Catalog

/// The run's tasks as the executor reports them while it goes. A run stopped from outside (cancel,
/// timeout, shutdown) unwinds its Lua code, so the executor's own result never comes back: its tasks
/// are then recorded from here, each in its real state. Used on the run's thread only.
final class TaskBoard {
    private var order: [String] = []
    /// The executor's records: `status` is `pending` or `running` until the task ends.
    private var records: [String: LuaValue] = [:]

    /// The tasks the run will go through, in order.
    func planned(_ names: [String]) {
        order = names
        for name in names { records[name] = LuaTable.record(["name": .string(name), "status": .string("pending")]) }
    }

    /// A task started or ended (an executor record).
    func update(_ record: LuaValue) {
        guard let name = record["name"].string else { return }
        if records[name] == nil { order.append(name) }
        records[name] = record
    }

    /// Every task as the stop left it: ended ones as they ended, running ones cancelled with `reason`,
    /// the others skipped.
    func stopped(reason: String, at now: Int64, chunkName: ChunkName) -> [RunReport.Task] {
        order.compactMap { records[$0] }.map { record in
            var task = RunReport.Task(lua: record, chunkName: chunkName)
            switch record["status"].string {
            case "running":
                (task.status, task.error, task.endedAt) = (.cancelled, reason, now)
                if let started = task.startedAt { task.durationMillis = now - started }
            case "pending": (task.status, task.error) = (.skipped, "not started: \(reason)")
            default: break
            }
            return task
        }
    }
}

extension RunReport.Task {
    /// From a record of the Lua executor.
    init(lua task: LuaValue, chunkName: ChunkName) {
        self.init(name: task["name"].string ?? "", status: task["status"].string.flatMap(TaskStatus.init) ?? .failed,
                  durationMillis: task["duration_ms"].int ?? 0, attempts: Int(task["attempts"].int ?? 0),
                  message: task["message"].string, error: task["error"].string.map(chunkName.expand).map(RunReport.naming),
                  output: task["output"] == .nil_ ? .table(LuaTable()) : task["output"],
                  artifacts: (task["artifacts"].table?.array ?? []).compactMap(\.string),
                  startedAt: task["started_at"].int, endedAt: task["ended_at"].int, exitCode: task["exit_code"].int.map(Int.init),
                  agent: task["agent"].string)
    }
}

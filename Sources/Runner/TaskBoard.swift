/// The run's tasks as the executor reports them while it goes. A run stopped from outside (cancel,
/// timeout, shutdown) unwinds its Lua code, so the executor's own result never comes back: its tasks
/// are then recorded from here, each in its real state. Used on the run's thread only.
final class TaskBoard {
    private var order: [String] = []
    private var tasks: [String: RunReport.Task] = [:]

    /// The tasks the run will go through, in order.
    func planned(_ names: [String]) {
        order = names
        for name in names { tasks[name] = RunReport.Task(name: name, status: "pending", durationMillis: 0, attempts: 0, output: .table(LuaTable())) }
    }

    /// A task started or ended (an executor record).
    func update(_ record: LuaValue, chunkName: ChunkName) {
        let task = RunReport.Task(lua: record, chunkName: chunkName)
        if tasks[task.name] == nil { order.append(task.name) }
        tasks[task.name] = task
    }

    /// Every task as the stop left it: ended ones as they ended, running ones cancelled with `reason`,
    /// the others skipped.
    func stopped(reason: String, at now: Int64) -> [RunReport.Task] {
        order.compactMap { tasks[$0] }.map { task in
            var task = task
            switch task.status {
            case "running":
                (task.status, task.error, task.endedAt) = ("cancelled", reason, now)
                if let started = task.startedAt { task.durationMillis = now - started }
            case "pending": (task.status, task.error) = ("skipped", "not started: \(reason)")
            default: break
            }
            return task
        }
    }
}

extension RunReport.Task {
    /// From a record of the Lua executor.
    init(lua task: LuaValue, chunkName: ChunkName) {
        self.init(name: task["name"].string ?? "", status: task["status"].string ?? "failed",
                  durationMillis: task["duration_ms"].int ?? 0, attempts: Int(task["attempts"].int ?? 0),
                  message: task["message"].string, error: task["error"].string.map(chunkName.expand).map(RunReport.naming),
                  output: task["output"] == .nil_ ? .table(LuaTable()) : task["output"],
                  artifacts: (task["artifacts"].table?.array ?? []).compactMap(\.string),
                  startedAt: task["started_at"].int, endedAt: task["ended_at"].int, exitCode: task["exit_code"].int.map(Int.init))
    }
}

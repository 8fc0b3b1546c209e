import GRDB

/// Run history: one row per run, its task results and its log lines.
public struct RunStore: Sendable {
    public struct NewRun: Sendable {
        public var workflow: String
        public var workflowVersion: String?
        public var trigger: String
        public var stack: String?
        public var file: String?
        public init(workflow: String, workflowVersion: String?, trigger: String, stack: String? = nil, file: String? = nil) {
            (self.workflow, self.workflowVersion, self.trigger, self.stack, self.file) = (workflow, workflowVersion, trigger, stack, file)
        }
    }

    public struct TaskResult: Sendable, Equatable {
        public var name: String
        public var status: String
        public var attempts: Int
        public var durationMillis: Int64
        public var error: String?
        public var outputJSON: String?
        public init(name: String, status: String, attempts: Int, durationMillis: Int64, error: String?, outputJSON: String?) {
            (self.name, self.status, self.attempts, self.durationMillis, self.error, self.outputJSON) =
                (name, status, attempts, durationMillis, error, outputJSON)
        }
    }

    public struct LogLine: Sendable, Equatable {
        public var at: Int64
        public var level: String
        public var task: String?
        public var message: String
        public var fieldsJSON: String?
        public init(at: Int64, level: String, task: String?, message: String, fieldsJSON: String?) {
            (self.at, self.level, self.task, self.message, self.fieldsJSON) = (at, level, task, message, fieldsJSON)
        }
    }

    public struct Run: Sendable, Equatable {
        public var id: Int64
        public var workflow: String
        public var trigger: String
        public var state: String
        public var error: String?
        public var startedAt: Int64?
        public var endedAt: Int64?
    }

    /// Log lines kept per run; past it one marker line says how many were dropped.
    public static let maxLogLines = 10_000

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    /// Records a run that starts now, in state `running`.
    public func start(_ run: NewRun) throws -> Int64 {
        try database.write { db in
            let now = database.now()
            try db.execute(sql: """
                INSERT INTO runs(workflow, workflow_version, trigger, stack, file, state, queued_at, started_at)
                VALUES (?, ?, ?, ?, ?, 'running', ?, ?)
                """, arguments: [run.workflow, run.workflowVersion, run.trigger, run.stack, run.file, now, now])
            return db.lastInsertedRowID
        }
    }

    public func appendLogs(run id: Int64, _ lines: [LogLine]) throws {
        guard !lines.isEmpty else { return }
        try database.write { db in
            var count = try Int.fetchOne(db, sql: "SELECT count(*) FROM run_logs WHERE run_id = ?", arguments: [id]) ?? 0
            for line in lines {
                count += 1
                if count > Self.maxLogLines + 1 { continue }
                let isMarker = count == Self.maxLogLines + 1
                try db.execute(sql: """
                    INSERT INTO run_logs(run_id, at, level, task, message, fields_json) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [id, line.at, isMarker ? "warn" : line.level, isMarker ? nil : line.task,
                                     isMarker ? "log truncated after \(Self.maxLogLines) lines" : line.message,
                                     isMarker ? nil : line.fieldsJSON])
            }
        }
    }

    /// Closes a run with its final state, task results and result document, in one transaction.
    public func finish(run id: Int64, state: String, error: String?, tasks: [TaskResult], resultJSON: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE runs SET state = ?, error = ?, ended_at = ?, result_json = ? WHERE id = ?",
                           arguments: [state, error, database.now(), resultJSON, id])
            for task in tasks {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO run_tasks(run_id, name, status, attempts, duration_ms, error, output_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, task.name, task.status, task.attempts, task.durationMillis, task.error, task.outputJSON])
            }
        }
    }

    public func run(_ id: Int64) throws -> Run? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT id, workflow, trigger, state, error, started_at, ended_at FROM runs WHERE id = ?",
                             arguments: [id]).map {
                Run(id: $0["id"], workflow: $0["workflow"], trigger: $0["trigger"], state: $0["state"],
                    error: $0["error"], startedAt: $0["started_at"], endedAt: $0["ended_at"])
            }
        }
    }

    public func tasks(run id: Int64) throws -> [TaskResult] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run_tasks WHERE run_id = ? ORDER BY rowid", arguments: [id]).map {
                TaskResult(name: $0["name"], status: $0["status"], attempts: $0["attempts"], durationMillis: $0["duration_ms"],
                           error: $0["error"], outputJSON: $0["output_json"])
            }
        }
    }

    public func logs(run id: Int64) throws -> [LogLine] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run_logs WHERE run_id = ? ORDER BY id", arguments: [id]).map {
                LogLine(at: $0["at"], level: $0["level"], task: $0["task"], message: $0["message"], fieldsJSON: $0["fields_json"])
            }
        }
    }
}

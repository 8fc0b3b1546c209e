import GRDB

/// Run history: one row per run, its task results and its log lines.
public struct RunStore: Sendable {
    public struct NewRun: Sendable {
        public var workflow: String
        /// The catalog version the run uses; nil for a file run outside the catalog.
        public var workflowVersion: Int?
        /// The workflow's own `version` string.
        public var declaredVersion: String?
        public var trigger: RunTrigger
        public var stack: String?
        public var file: String?
        public init(workflow: String, workflowVersion: Int?, declaredVersion: String? = nil, trigger: RunTrigger, stack: String? = nil,
                    file: String? = nil) {
            (self.workflow, self.workflowVersion, self.declaredVersion, self.trigger, self.stack, self.file) =
                (workflow, workflowVersion, declaredVersion, trigger, stack, file)
        }
    }

    public struct TaskResult: Sendable, Equatable {
        public var name: String
        public var status: TaskStatus
        public var attempts: Int
        public var durationMillis: Int64
        public var error: String?
        public var outputJSON: String?
        /// Milliseconds since 1970; nil for a task that never started.
        public var startedAt: Int64?
        public var endedAt: Int64?
        /// The exit status of the task's command, when it ran one.
        public var exitCode: Int?
        /// The agent a delegated task ran on.
        public var agent: String?
        public init(name: String, status: TaskStatus, attempts: Int, durationMillis: Int64, error: String?, outputJSON: String?,
                    startedAt: Int64? = nil, endedAt: Int64? = nil, exitCode: Int? = nil, agent: String? = nil) {
            (self.name, self.status, self.attempts, self.durationMillis, self.error, self.outputJSON) =
                (name, status, attempts, durationMillis, error, outputJSON)
            (self.startedAt, self.endedAt, self.exitCode, self.agent) = (startedAt, endedAt, exitCode, agent)
        }
    }

    public struct LogLine: Sendable, Equatable {
        public var at: Int64
        public var level: String
        public var task: String?
        /// `stdout` or `stderr` for a line a job printed; nil for the run's own lines.
        public var stream: String?
        public var message: String
        public var fieldsJSON: String?
        public init(at: Int64, level: String, task: String?, stream: String? = nil, message: String, fieldsJSON: String?) {
            (self.at, self.level, self.task, self.stream, self.message, self.fieldsJSON) = (at, level, task, stream, message, fieldsJSON)
        }

        init(_ row: Row) {
            self.init(at: row["at"], level: row["level"], task: row["task"], stream: row["stream"], message: row["message"],
                      fieldsJSON: row["fields_json"])
        }
    }

    public struct Run: Sendable, Equatable, Codable {
        public var id: Int64
        public var workflow: String
        public var workflowVersion: Int?
        public var declaredVersion: String? = nil
        public var trigger: RunTrigger
        public var state: RunState
        public var error: String? = nil
        public var schedule: String? = nil
        public var stack: String? = nil
        /// Seconds since 1970: the fire time of a scheduled run.
        public var nominalAt: Int64? = nil
        public var queuedAt: Int64
        public var startedAt: Int64? = nil
        public var endedAt: Int64? = nil
        public var resultJSON: String? = nil
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    /// Who asked for a run, for the audit table.
    public struct Requester: Sendable {
        public var uid: UInt32?
        /// The dashboard user, for a run started from the dashboard.
        public var user: String?
        public init(uid: UInt32?, user: String? = nil) { (self.uid, self.user) = (uid, user) }
    }

    /// Records a run waiting for a worker, in state `queued`, counts a use of its workflow and audits
    /// the request: one transaction, as the daemon does this for every run.
    public func queue(_ run: NewRun, requester: Requester? = nil) throws -> Run {
        try database.write { db in
            let now = database.now()
            try db.execute(cached: """
                INSERT INTO runs(workflow, workflow_version, trigger, stack, file, state, queued_at)
                VALUES (?, ?, ?, ?, ?, 'queued', ?)
                """, [run.workflow, run.workflowVersion, run.trigger, run.stack, run.file, now])
            let id = db.lastInsertedRowID
            try db.execute(cached: "UPDATE workflows SET usage_count = usage_count + 1, last_used_at = ? WHERE name = ?", [now, run.workflow])
            if let requester {
                try AuditStore.insert(db, at: now, uid: requester.uid, user: requester.user, action: "run.start", object: run.workflow, detail: "run \(id)")
            }
            return Run(id: id, workflow: run.workflow, workflowVersion: run.workflowVersion, trigger: run.trigger, state: .queued,
                       queuedAt: now)
        }
    }

    /// A queued run is taken by a worker, its file loaded; false if it is no longer queued (cancelled meanwhile).
    public func markStarted(_ id: Int64, declaredVersion: String?) throws -> Bool {
        try database.write { db in
            try db.execute(cached: "UPDATE runs SET state = 'running', started_at = ?, declared_version = ? WHERE id = ? AND state = 'queued'",
                           [database.now(), declaredVersion, id])
            return db.changesCount > 0
        }
    }

    /// What a starting slothd found of runs whose process is gone.
    public struct Abandoned: Sendable, Equatable {
        public var runs: Int
        /// Process groups those runs started on this boot, to be killed if anything is left of them.
        public var processGroups: [Int32]
    }

    /// Runs left queued or running by a process that is gone (a previous slothd, or a `sloth run -f`
    /// that was killed) become `interrupted`, in one transaction; a run whose owner still runs is left alone.
    public func interruptAbandoned(reason: String) throws -> Abandoned {
        try database.write { db in
            let unfinished = try Row.fetchAll(db, sql: "SELECT id, owner FROM runs WHERE state IN ('queued', 'running')")
            let abandoned: [Int64] = unfinished.compactMap { row in
                let owner: String? = row["owner"]
                return owner.map(ProcessIdentity.isAlive) == true ? nil : row["id"]
            }
            var groups: [Int32] = []
            for id in abandoned {
                groups += try Int32.fetchAll(db, sql: "SELECT pgid FROM run_process_groups WHERE run_id = ? AND boot_id = ?",
                                             arguments: [id, ProcessIdentity.bootID])
                try db.execute(sql: "UPDATE runs SET state = 'interrupted', error = ?, ended_at = ? WHERE id = ?",
                               arguments: [reason, database.now(), id])
                try db.execute(sql: "DELETE FROM run_process_groups WHERE run_id = ?", arguments: [id])
            }
            return Abandoned(runs: abandoned.count, processGroups: groups)
        }
    }

    /// The job's process group is empty (its number may be given to another process).
    public func forgetProcessGroup(run id: Int64, pgid: Int32) throws {
        try database.write { db in
            try db.execute(cached: "DELETE FROM run_process_groups WHERE run_id = ? AND pgid = ?", [id, pgid])
        }
    }

    /// A job of the run started in its own process group (removed again when it ends, or with the run).
    public func recordProcessGroup(run id: Int64, pgid: Int32) throws {
        try database.write { db in
            try db.execute(cached: "INSERT OR IGNORE INTO run_process_groups(run_id, pgid, boot_id) VALUES (?, ?, ?)",
                           [id, pgid, ProcessIdentity.bootID])
        }
    }

    public struct Filter: Sendable {
        public var workflow: String?
        public var state: RunState?
        public var schedule: String?
        /// A stack's runs; "" for runs outside any stack.
        public var stack: String?
        /// Runs with a task delegated to this agent.
        public var agent: String?
        /// Keyset pagination: only runs older than this id (the last id of the page before).
        public var before: Int64?
        public var limit: Int
        public init(workflow: String? = nil, state: RunState? = nil, schedule: String? = nil, stack: String? = nil, agent: String? = nil,
                    before: Int64? = nil, limit: Int = 20) {
            (self.workflow, self.state, self.schedule, self.stack, self.limit) = (workflow, state, schedule, stack, limit)
            (self.agent, self.before) = (agent, before)
        }
    }

    /// Whether a run in the history was of this workflow (which may since have left the catalog).
    public func mentions(workflow: String) throws -> Bool {
        try database.read { db in try db.exists("SELECT 1 FROM runs WHERE workflow = ?", [workflow]) }
    }

    /// Whether a run in the history was fired by this schedule.
    public func mentions(schedule: String) throws -> Bool {
        try database.read { db in try db.exists("SELECT 1 FROM runs WHERE schedule = ?", [schedule]) }
    }

    /// Newest first. Only the filters given are in the statement, so SQLite picks the index that
    /// matches them (a `? IS NULL OR` form would have it walk every run for a rare workflow).
    public func list(_ filter: Filter) throws -> [Run] {
        var clauses: [String] = [], arguments: [(any DatabaseValueConvertible)?] = []
        func add(_ clause: String, _ values: (any DatabaseValueConvertible)?...) { clauses.append(clause); arguments += values }
        if let workflow = filter.workflow { add("workflow = ?", workflow) }
        if let state = filter.state { add("state = ?", state) }
        if let schedule = filter.schedule { add("schedule = ?", schedule) }
        if let stack = filter.stack { stack.isEmpty ? add("stack IS NULL") : add("stack = ?", stack) }
        if let before = filter.before { add("id < ?", before) }
        if let agent = filter.agent { add("EXISTS (SELECT 1 FROM run_tasks WHERE run_id = runs.id AND agent = ?)", agent) }
        let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments.append(filter.limit)
        return try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs \(condition) ORDER BY id DESC LIMIT ?", arguments: StatementArguments(arguments)).map(Self.run)
        }
    }

    /// The last run of each schedule named that has one, in one read (an index seek each).
    public func lastRuns(schedules names: [String]) throws -> [String: Run] {
        try database.read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM runs WHERE schedule = ? ORDER BY id DESC LIMIT 1")
            var found: [String: Run] = [:]
            for name in names {
                if let row = try Row.fetchOne(statement, arguments: [name]) { found[name] = Self.run(row) }
            }
            return found
        }
    }

    /// Log lines after the row with id `after` (of one task, if given), with their row ids (lines a job
    /// printed together share one).
    public func logs(run id: Int64, after: Int64, task: String? = nil) throws -> [(id: Int64, line: LogLine)] {
        try database.readSingleStatement { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM run_logs WHERE run_id = ?1 AND id > ?2 AND (?3 IS NULL OR task = ?3) ORDER BY id LIMIT 1000
                """), arguments: [id, after, task]).flatMap { row in Self.unpacked(row).map { (row["id"], $0) } }
        }
    }

    private static func run(_ row: Row) -> Run {
        // The column has text affinity (it once held version strings): numbers come back as text.
        Run(id: row["id"], workflow: row["workflow"], workflowVersion: (row["workflow_version"] as String?).flatMap { Int($0) },
            declaredVersion: row["declared_version"],
            trigger: RunTrigger(rawValue: row["trigger"]) ?? .manual,
            state: RunState(rawValue: row["state"]) ?? .failed, error: row["error"], schedule: row["schedule"], stack: row["stack"], nominalAt: row["nominal_at"], queuedAt: row["queued_at"],
            startedAt: row["started_at"], endedAt: row["ended_at"], resultJSON: row["result_json"])
    }

    /// Records a run that starts now, in state `running`.
    public func start(_ run: NewRun) throws -> Int64 {
        try database.write { db in
            let now = database.now()
            try db.execute(cached: """
                INSERT INTO runs(workflow, workflow_version, declared_version, trigger, stack, file, state, queued_at, started_at, owner)
                VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)
                """, [run.workflow, run.workflowVersion, run.declaredVersion, run.trigger, run.stack, run.file, now, now,
                      ProcessIdentity.current])
            return db.lastInsertedRowID
        }
    }

    public func appendLogs(run id: Int64, _ lines: [LogLine]) throws {
        guard !lines.isEmpty else { return }
        try database.write { db in try Self.insert(db, logs: lines, run: id) }
    }

    /// How a run ended. A run that never started has only a state and an error.
    public struct End: Sendable {
        public var state: RunState
        public var error: String?
        public var tasks: [TaskResult]
        public var resultJSON: String?
        public var outputsJSON: String?
        /// A hook's run is not one of its stack's runs.
        public var countsInStack: Bool
        public var logs: [LogLine]
        public init(state: RunState, error: String?, tasks: [TaskResult] = [], resultJSON: String? = nil, outputsJSON: String? = nil,
                    countsInStack: Bool = true, logs: [LogLine] = []) {
            (self.state, self.error, self.tasks, self.resultJSON, self.outputsJSON) = (state, error, tasks, resultJSON, outputsJSON)
            (self.countsInStack, self.logs) = (countsInStack, logs)
        }
    }

    /// The one way a run ends, whether it ran, was cancelled while queued, or never got a worker: its
    /// final state, last log lines, task results, result document, event rows and its stack's last-run
    /// figures, in one transaction. A run ends once: false (and nothing but its log lines written) if it
    /// had already ended.
    @discardableResult
    public func end(_ id: Int64, _ end: End) throws -> Bool {
        try database.write { db in
            try Self.insert(db, logs: end.logs, run: id)
            let now = database.now()
            try db.execute(cached: "UPDATE runs SET state = ?, error = ?, ended_at = ?, result_json = ? WHERE id = ? AND ended_at IS NULL",
                           [end.state, end.error, now, end.resultJSON, id])
            guard db.changesCount > 0 else { return false }
            if end.countsInStack { try Self.recordInStack(db, run: id, state: end.state, error: end.error, outputsJSON: end.outputsJSON, at: now) }
            try RunEvents.finished(db, run: id, state: end.state, error: end.error, tasks: end.tasks, at: now)
            try db.execute(cached: "DELETE FROM run_process_groups WHERE run_id = ?", [id])
            for task in end.tasks {
                try db.execute(cached: """
                    INSERT OR REPLACE INTO run_tasks(run_id, name, status, attempts, duration_ms, error, output_json,
                                                     started_at, ended_at, exit_code, agent)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [id, task.name, task.status, task.attempts, task.durationMillis, task.error, task.outputJSON,
                          task.startedAt, task.endedAt, task.exitCode, task.agent])
            }
            return true
        }
    }

    /// A run in a stack that ended: the stack's run count and last-run figures.
    private static func recordInStack(_ db: Database, run id: Int64, state: RunState, error: String?, outputsJSON: String?, at now: Int64) throws {
        try db.execute(cached: """
            UPDATE stacks SET runs = runs + 1, last_run_id = ?1, last_run_at = ?2, last_state = ?3, last_error = ?4,
                last_outputs_json = ?5, last_duration_ms = ?2 - (SELECT coalesce(started_at, queued_at) FROM runs WHERE id = ?1)
            WHERE name = (SELECT stack FROM runs WHERE id = ?1)
            """, [id, now, state, error, outputsJSON])
    }

    /// The runner caps what a run logs (in bytes, RunLog.capBytes), so every line handed over is kept.
    /// Lines a job printed together (same task, stream and time) share a row, split again when read,
    /// and rows go many to a statement: a command that prints a thousand lines at once is a few rows.
    static func insert(_ db: Database, logs lines: [LogLine], run id: Int64) throws {
        let rows = packed(lines)
        for start in stride(from: 0, to: rows.count, by: logRowsPerStatement) {
            let batch = rows[start..<min(start + logRowsPerStatement, rows.count)]
            var arguments: [(any DatabaseValueConvertible)?] = [id]
            arguments.reserveCapacity(1 + batch.count * 6)
            for line in batch {
                arguments.append(line.at)
                arguments.append(line.level)
                arguments.append(line.task)
                arguments.append(line.stream)
                arguments.append(line.message)
                arguments.append(line.fieldsJSON)
            }
            try db.execute(cached: batch.count == logRowsPerStatement ? fullLogInsert : logInsert(rows: batch.count),
                           StatementArguments(arguments))
        }
    }

    /// Consecutive job lines of one task, stream and millisecond joined by newlines (a job's line never
    /// holds one: the runner cuts at them).
    static func packed(_ lines: [LogLine]) -> [LogLine] {
        var rows: [LogLine] = []
        rows.reserveCapacity(lines.count)
        for line in lines {
            if let last = rows.last, line.stream != nil, last.stream == line.stream, last.task == line.task, last.at == line.at,
               last.fieldsJSON == nil, line.fieldsJSON == nil, last.level == line.level {
                rows[rows.count - 1].message += "\n" + line.message
            } else {
                rows.append(line)
            }
        }
        return rows
    }

    /// A stored row as the lines it holds.
    static func unpacked(_ row: Row) -> [LogLine] {
        let line = LogLine(row)
        guard line.stream != nil, line.message.contains("\n") else { return [line] }
        return line.message.split(separator: "\n", omittingEmptySubsequences: false).map { text in
            var part = line
            part.message = String(text)
            return part
        }
    }

    private static let logRowsPerStatement = 64
    private static let fullLogInsert = logInsert(rows: logRowsPerStatement)

    private static func logInsert(rows: Int) -> String {
        "INSERT INTO run_logs(run_id, at, level, task, stream, message, fields_json) VALUES "
            + Array(repeating: "(?1, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    public func run(_ id: Int64) throws -> Run? {
        try database.readSingleStatement { db in try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM runs WHERE id = ?"), arguments: [id]).map(Self.run) }
    }

    public func tasks(run id: Int64) throws -> [TaskResult] {
        try database.readSingleStatement { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM run_tasks WHERE run_id = ? ORDER BY rowid"), arguments: [id]).map(Self.task)
        }
    }

    /// The task results of several runs (a page of `runs list`), by run.
    public func tasks(runs ids: [Int64]) throws -> [Int64: [TaskResult]] {
        guard !ids.isEmpty else { return [:] }
        return try database.read { db in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM run_tasks WHERE run_id IN (\(marks)) ORDER BY rowid",
                                        arguments: StatementArguments(ids))
            return Dictionary(grouping: rows) { $0["run_id"] as Int64 }.mapValues { $0.map(Self.task) }
        }
    }

    private static func task(_ row: Row) -> TaskResult {
        TaskResult(name: row["name"], status: TaskStatus(rawValue: row["status"]) ?? .failed, attempts: row["attempts"], durationMillis: row["duration_ms"],
                   error: row["error"], outputJSON: row["output_json"], startedAt: row["started_at"], endedAt: row["ended_at"],
                   exitCode: row["exit_code"], agent: row["agent"])
    }

    public func logs(run id: Int64) throws -> [LogLine] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run_logs WHERE run_id = ? ORDER BY id", arguments: [id]).flatMap(Self.unpacked)
        }
    }
}

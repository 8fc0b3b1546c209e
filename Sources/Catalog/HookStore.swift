import GRDB

/// Hooks (SPEC section 9): Lua scripts run for events whose type matches theirs exactly or by a
/// `prefix.*` pattern; each execution is recorded. slothd dispatches the event rows after a cursor it
/// keeps here, so events written by any process (a local `sloth run -f` too) reach the hooks, each
/// hook once per event (an execution is recorded before the cursor moves past its event).
public struct HookStore: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible, StorageFailure {
        case duplicate(String)
        case unknown(String)
        case storage(String)
        public var description: String {
            switch self {
            case .duplicate(let name): "a hook named \"\(name)\" already exists (remove it first)"
            case .unknown(let name): "no hook named \"\(name)\""
            case .storage(let message): "hook storage: \(message)"
            }
        }
    }

    public struct Hook: Sendable, Equatable {
        public var name: String
        /// An event type, or `prefix.*`.
        public var event: String
        public var script: String
        public var file: String?
        public var description: String?
        public var enabled = true
        public var createdAt: Int64 = 0
        public var updatedAt: Int64 = 0
        public init(name: String, event: String, script: String, file: String?, description: String?) {
            (self.name, self.event, self.script, self.file, self.description) = (name, event, script, file, description)
        }

        public func matches(_ type: String) -> Bool {
            event.hasSuffix(".*") ? type.hasPrefix(String(event.dropLast())) : type == event
        }
    }

    public struct Execution: Sendable, Equatable {
        public var id: Int64 = 0
        public var hook: String
        public var eventID: Int64?
        public var eventType: String
        public var runID: Int64?
        public var status: HookOutcome
        public var error: String?
        public var at: Int64
        public var durationMillis: Int64
        public init(hook: String, eventID: Int64?, eventType: String, runID: Int64?, status: HookOutcome, error: String?, at: Int64,
                    durationMillis: Int64) {
            (self.hook, self.eventID, self.eventType, self.runID, self.status) = (hook, eventID, eventType, runID, status)
            (self.error, self.at, self.durationMillis) = (error, at, durationMillis)
        }
    }

    /// An event waiting for its hooks; `fromHook` when a hook's own run wrote it (never dispatched, so
    /// hooks cannot trigger each other without end).
    public struct PendingEvent: Sendable {
        public var event: EventStore.Event
        public var fromHook: Bool
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    public func add(_ hook: Hook) throws(Error) -> Hook {
        try Error.guarding {
            try database.write { db in
                guard try !db.exists("SELECT 1 FROM hooks WHERE name = ?", [hook.name]) else { throw Error.duplicate(hook.name) }
                let now = database.now()
                try db.execute(sql: """
                    INSERT INTO hooks(name, event, script, file, description, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [hook.name, hook.event, hook.script, hook.file, hook.description, hook.enabled, now, now])
                return try fetch(db, hook.name)
            }
        }
    }

    public func list() throws(Error) -> [Hook] {
        try Error.guarding { try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM hooks ORDER BY name").map(Self.hook) } }
    }

    public func get(_ name: String) throws(Error) -> Hook {
        try Error.guarding { try database.read { db in try fetch(db, name) } }
    }

    /// The executions are kept: they are the hook's history.
    public func remove(_ name: String) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "DELETE FROM hooks WHERE name = ?", arguments: [name])
                guard db.changesCount > 0 else { throw Error.unknown(name) }
            }
        }
    }

    public func setEnabled(_ name: String, _ enabled: Bool) throws(Error) -> Hook {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "UPDATE hooks SET enabled = ?, updated_at = ? WHERE name = ?", arguments: [enabled, database.now(), name])
                guard db.changesCount > 0 else { throw Error.unknown(name) }
                return try fetch(db, name)
            }
        }
    }

    /// Events after the dispatch cursor, oldest first.
    public func pending(limit: Int = 100) throws(Error) -> [PendingEvent] {
        try Error.guarding {
            try database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT e.*, r.trigger AS run_trigger FROM events e LEFT JOIN runs r ON r.id = e.run_id
                    WHERE e.id > (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'hooks.cursor'), 0))
                    ORDER BY e.id LIMIT ?
                    """, arguments: [limit]).map {
                    PendingEvent(event: EventStore.Event(id: $0["id"], type: $0["type"], at: $0["at"], runID: $0["run_id"],
                                                         stack: $0["stack"], dataJSON: $0["data_json"]),
                                 fromHook: ($0["run_trigger"] as String?) == "hook")
                }
            }
        }
    }

    /// Records one execution as soon as it ends, so a restart never runs it again.
    public func record(_ execution: Execution) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO hook_executions(hook, event_id, event_type, run_id, status, error, at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [execution.hook, execution.eventID, execution.eventType, execution.runID, execution.status,
                                     execution.error, execution.at, execution.durationMillis])
            }
        }
    }

    /// Whether `hook` already ran for event `id` (before a restart cut the event's dispatch short).
    public func executed(_ hook: String, event id: Int64) throws(Error) -> Bool {
        try Error.guarding {
            try database.read { db in
                try db.exists("SELECT 1 FROM hook_executions WHERE hook = ? AND event_id = ?", [hook, id])
            }
        }
    }

    /// No hook is enabled: the cursor moves past every event there is, in one statement.
    public func skipAll() throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: """
                    INSERT OR REPLACE INTO settings(key, value) VALUES ('hooks.cursor', (SELECT coalesce(max(id), 0) FROM events))
                    """)
            }
        }
    }

    /// Every hook of event `id` has run: the cursor moves past it.
    public func advance(past id: Int64) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('hooks.cursor', ?)", arguments: [String(id)])
            }
        }
    }

    /// Newest first.
    public func executions(_ name: String, limit: Int = 10) throws(Error) -> [Execution] {
        try Error.guarding {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM hook_executions WHERE hook = ? ORDER BY id DESC LIMIT ?", arguments: [name, limit])
                    .map(Self.execution)
            }
        }
    }

    /// What every hook did with one event, in the order they ran.
    public func executions(event id: Int64) throws(Error) -> [Execution] {
        try Error.guarding {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM hook_executions WHERE event_id = ? ORDER BY id", arguments: [id]).map(Self.execution)
            }
        }
    }

    private static func execution(_ row: Row) -> Execution {
        var execution = Execution(hook: row["hook"], eventID: row["event_id"], eventType: row["event_type"], runID: row["run_id"],
                                  status: row["status"], error: row["error"], at: row["at"], durationMillis: row["duration_ms"])
        execution.id = row["id"]
        return execution
    }

    private func fetch(_ db: Database, _ name: String) throws -> Hook {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM hooks WHERE name = ?", arguments: [name]) else { throw Error.unknown(name) }
        return Self.hook(row)
    }

    private static func hook(_ row: Row) -> Hook {
        var hook = Hook(name: row["name"], event: row["event"], script: row["script"], file: row["file"], description: row["description"])
        (hook.enabled, hook.createdAt, hook.updatedAt) = (row["enabled"], row["created_at"], row["updated_at"])
        return hook
    }
}

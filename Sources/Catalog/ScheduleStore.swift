import Foundation
import GRDB

/// Schedules, their cursors and counters, the scheduler's pause flag, and the runs they fire: a fire
/// is a run row whose (schedule, nominal time) is unique, so no fire is ever recorded twice.
public struct ScheduleStore: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible, StorageFailure {
        case duplicate(String)
        case unknown(String)
        case unknownWorkflow(String)
        case storage(String)
        public var description: String {
            switch self {
            case .duplicate(let name): "a schedule named \"\(name)\" already exists (remove it first)"
            case .unknown(let name): "no schedule named \"\(name)\""
            case .unknownWorkflow(let name): "no workflow named \"\(name)\" in the catalog (sloth workflow add \(name) --file F)"
            case .storage(let message): "schedule storage: \(message)"
            }
        }
    }

    public struct Schedule: Sendable, Equatable, Codable {
        public var name: String
        public var workflow: String
        public var cron: String
        public var zone: String
        public var tasks: [String] = []
        public var params: [String: String] = [:]
        public var stack: String?
        /// The agent for every task without its own `delegate_to`.
        public var delegateTo: String?
        public var overlap: String
        public var catchup: String
        public var catchupWindowSeconds: Int64
        public var jitterSeconds: Int64 = 0
        public var timeoutSeconds: Int64?
        public var description: String?
        public var enabled = true
        public var note: String?
        /// The last nominal time processed (seconds since 1970).
        public var cursor: Int64
        public var fired = 0
        public var skipped = 0
        public var missed = 0
        public var createdAt: Int64 = 0
        public var updatedAt: Int64 = 0

        public init(name: String, workflow: String, cron: String, zone: String, tasks: [String], params: [String: String],
                    overlap: String, catchup: String, catchupWindowSeconds: Int64, jitterSeconds: Int64, timeoutSeconds: Int64?,
                    description: String?, enabled: Bool, cursor: Int64, stack: String? = nil, delegateTo: String? = nil) {
            (self.stack, self.delegateTo) = (stack, delegateTo)
            (self.name, self.workflow, self.cron, self.zone, self.tasks, self.params) = (name, workflow, cron, zone, tasks, params)
            (self.overlap, self.catchup, self.catchupWindowSeconds, self.jitterSeconds) = (overlap, catchup, catchupWindowSeconds, jitterSeconds)
            (self.timeoutSeconds, self.description, self.enabled, self.cursor) = (timeoutSeconds, description, enabled, cursor)
        }
    }

    /// One fire to record: a queued run, or a skipped one with its reason.
    public struct Fire: Sendable {
        public var schedule: String
        public var workflow: String
        public var workflowVersion: Int?
        /// Seconds since 1970; nil for a manual trigger.
        public var nominal: Int64?
        public var trigger: RunTrigger
        public var skipReason: String?
        public var stack: String?
        public init(schedule: String, workflow: String, workflowVersion: Int?, nominal: Int64?, trigger: RunTrigger, skipReason: String?,
                    stack: String? = nil) {
            self.stack = stack
            (self.schedule, self.workflow, self.workflowVersion, self.nominal, self.trigger, self.skipReason) =
                (schedule, workflow, workflowVersion, nominal, trigger, skipReason)
        }
    }

    /// A schedule's cursor moved on, and what its counters gained.
    public struct Advance: Sendable {
        public var schedule: String
        public var cursor: Int64
        public var missed: Int
        public init(schedule: String, cursor: Int64, missed: Int) {
            (self.schedule, self.cursor, self.missed) = (schedule, cursor, missed)
        }
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    public func add(_ schedule: Schedule) throws(Error) -> Schedule {
        try Error.guarding {
            try database.write { db in
                try insert(db, schedule, at: database.now())
                return try fetch(db, schedule.name)
            }
        }
    }

    /// Adds many schedules in one transaction: all of them or, on any error, none.
    public func add(_ schedules: [Schedule]) throws(Error) {
        try Error.guarding {
            try database.write { db in
                let now = database.now()
                for schedule in schedules { try insert(db, schedule, at: now) }
            }
        }
    }

    private func insert(_ db: Database, _ schedule: Schedule, at now: Int64) throws {
        guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM schedules WHERE name = ?"), arguments: [schedule.name]) == nil else {
            throw Error.duplicate(schedule.name)
        }
        guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM workflows WHERE name = ?"), arguments: [schedule.workflow]) != nil else {
            throw Error.unknownWorkflow(schedule.workflow)
        }
        try db.execute(cached: """
            INSERT INTO schedules(name, workflow, cron, zone, tasks_json, params_json, stack, delegate_to, overlap, catchup, catchup_window_s,
                                  jitter_s, timeout_s, description, enabled, cursor, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [schedule.name, schedule.workflow, schedule.cron, schedule.zone, Self.json(schedule.tasks),
                  Self.json(schedule.params), schedule.stack, schedule.delegateTo, schedule.overlap, schedule.catchup, schedule.catchupWindowSeconds,
                  schedule.jitterSeconds, schedule.timeoutSeconds, schedule.description, schedule.enabled,
                  schedule.cursor, now, now])
        try EventStore.insert(db, type: "schedule.created", data: ["schedule": schedule.name, "workflow": schedule.workflow,
                                                                    "cron": schedule.cron, "tz": schedule.zone], stack: schedule.stack, at: now)
    }

    /// By name; a page of `limit` after the name `after` when given.
    public func list(after: String? = nil, limit: Int? = nil) throws(Error) -> [Schedule] {
        try Error.guarding {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM schedules WHERE name > ? ORDER BY name LIMIT ?", arguments: [after ?? "", limit ?? -1])
                    .map(Self.schedule)
            }
        }
    }

    public func count() throws(Error) -> Int {
        try Error.guarding { try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM schedules") ?? 0 } }
    }

    /// Every schedule, one at a time (slothd loads them all at start without holding all the rows).
    public func forEach(_ body: (Schedule) -> Void) throws(Error) {
        try Error.guarding {
            try database.read { db in
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM schedules")
                while let row = try rows.next() { body(Self.schedule(row)) }
            }
        }
    }

    public func get(_ name: String) throws(Error) -> Schedule {
        try Error.guarding { try database.read { db in try fetch(db, name) } }
    }

    /// The runs keep the schedule's name; only the schedule goes.
    public func remove(_ name: String) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "DELETE FROM schedules WHERE name = ?", arguments: [name])
                guard db.changesCount > 0 else { throw Error.unknown(name) }
                try EventStore.insert(db, type: "schedule.deleted", data: ["schedule": name], stack: nil, at: database.now())
            }
        }
    }

    /// Enabling starts from `cursor` (now), so fires of the disabled time are not caught up.
    public func setEnabled(_ name: String, _ enabled: Bool, note: String?, cursor: Int64) throws(Error) -> Schedule {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: """
                    UPDATE schedules SET enabled = ?, note = ?, cursor = CASE WHEN ? THEN max(cursor, ?) ELSE cursor END, updated_at = ?
                    WHERE name = ?
                    """, arguments: [enabled, note, enabled, cursor, database.now(), name])
                guard db.changesCount > 0 else { throw Error.unknown(name) }
                try EventStore.insert(db, type: enabled ? "schedule.enabled" : "schedule.disabled",
                                      data: ["schedule": name, "note": note ?? ""], stack: nil, at: database.now())
                return try fetch(db, name)
            }
        }
    }

    public func paused() throws(Error) -> Bool {
        try Error.guarding {
            try database.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'scheduler.paused'") == "1" }
        }
    }

    /// Why the scheduler was paused (`scheduler disable --note`), kept while it is.
    public func pauseNote() throws(Error) -> String? {
        try Error.guarding {
            try database.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'scheduler.paused_note'") }
        }
    }

    /// Pausing keeps the cursors (and the note, if any); resuming moves every cursor to `cursor` (now), so
    /// the pause is not caught up.
    public func setPaused(_ paused: Bool, note: String? = nil, cursor: Int64) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('scheduler.paused', ?)", arguments: [paused ? "1" : "0"])
                try db.execute(sql: "DELETE FROM settings WHERE key = 'scheduler.paused_note'")
                if paused, let note {
                    try db.execute(sql: "INSERT INTO settings(key, value) VALUES ('scheduler.paused_note', ?)", arguments: [note])
                }
                if !paused { try db.execute(sql: "UPDATE schedules SET cursor = max(cursor, ?)", arguments: [cursor]) }
            }
        }
    }

    /// Records fires and cursor moves in one transaction. Returns each fire's run id, or nil where that
    /// (schedule, nominal time) was already recorded, which must then not run again.
    public func record(_ fires: [Fire], advances: [Advance]) throws(Error) -> [Int64?] {
        try Error.guarding {
            try database.write { db in
                let now = database.now()
                var counts: [String: (fired: Int, skipped: Int)] = [:]
                var uses: [String: Int] = [:]
                let ids = try fires.map { fire -> Int64? in
                    try db.execute(cached: """
                        INSERT OR IGNORE INTO runs(workflow, workflow_version, schedule, stack, trigger, state, nominal_at, queued_at, ended_at, error)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, [fire.workflow, fire.workflowVersion, fire.schedule, fire.stack, fire.trigger, fire.skipReason == nil ? RunState.queued : .skipped,
                              fire.nominal, now, fire.skipReason == nil ? nil : now, fire.skipReason])
                    guard db.changesCount > 0 else { return nil }
                    if fire.skipReason == nil {
                        counts[fire.schedule, default: (0, 0)].fired += 1
                        uses[fire.workflow, default: 0] += 1
                    } else {
                        counts[fire.schedule, default: (0, 0)].skipped += 1
                    }
                    return db.lastInsertedRowID
                }
                let missed = Dictionary(advances.map { ($0.schedule, $0) }) { $1 }
                for name in Set(counts.keys).union(missed.keys) {
                    let count = counts[name] ?? (0, 0)
                    try db.execute(cached: """
                        UPDATE schedules SET cursor = max(cursor, ?), fired = fired + ?, skipped = skipped + ?, missed = missed + ? WHERE name = ?
                        """, [missed[name]?.cursor ?? 0, count.fired, count.skipped, missed[name]?.missed ?? 0, name])
                }
                for (workflow, count) in uses {
                    try db.execute(cached: "UPDATE workflows SET usage_count = usage_count + ?, last_used_at = ? WHERE name = ?", [count, now, workflow])
                }
                return ids
            }
        }
    }

    // MARK: rows

    private func fetch(_ db: Database, _ name: String) throws -> Schedule {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM schedules WHERE name = ?", arguments: [name]) else { throw Error.unknown(name) }
        return Self.schedule(row)
    }

    private static func schedule(_ row: Row) -> Schedule {
        var schedule = Schedule(
            name: row["name"], workflow: row["workflow"], cron: row["cron"], zone: row["zone"],
            tasks: decode([String].self, row["tasks_json"]) ?? [], params: decode([String: String].self, row["params_json"]) ?? [:],
            overlap: row["overlap"], catchup: row["catchup"], catchupWindowSeconds: row["catchup_window_s"], jitterSeconds: row["jitter_s"],
            timeoutSeconds: row["timeout_s"], description: row["description"], enabled: row["enabled"], cursor: row["cursor"],
            stack: row["stack"], delegateTo: row["delegate_to"])
        (schedule.note, schedule.fired, schedule.skipped, schedule.missed) = (row["note"], row["fired"], row["skipped"], row["missed"])
        (schedule.createdAt, schedule.updatedAt) = (row["created_at"], row["updated_at"])
        return schedule
    }

    private static func json(_ value: some Encodable) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        guard text != "[]" && text != "{}" else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

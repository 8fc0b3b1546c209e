import GRDB

/// Stacks (SPEC sections 3–5): named environments, each with its values, state, secrets and run
/// history, and the one the CLI uses when `--stack` is omitted. Every change and its `stack.*` event
/// are one transaction.
public struct StackStore: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible, StorageFailure {
        case duplicate(String)
        case unknown(String)
        case usedBySchedules(String, schedules: [String])
        case notEmpty(String, secrets: Int, stateKeys: Int)
        case unknownKeys(String, keys: [String])
        case storage(String)
        public var description: String {
            switch self {
            case .duplicate(let name): "a stack named \"\(name)\" already exists"
            case .unknown(let name): "no stack named \"\(name)\" (sloth stack new \(name))"
            case .usedBySchedules(let name, let schedules):
                "stack \"\(name)\" is used by schedule\(schedules.count == 1 ? "" : "s") \(schedules.joined(separator: ", ")) (remove them first)"
            case .notEmpty(let name, let secrets, let stateKeys):
                "stack \"\(name)\" holds \(secrets) secret\(secrets == 1 ? "" : "s") and \(stateKeys) state key\(stateKeys == 1 ? "" : "s"); --force deletes them with it"
            case .unknownKeys(let name, let keys):
                "stack \"\(name)\" has no value\(keys.count == 1 ? "" : "s") \(keys.map { "\"\($0)\"" }.joined(separator: ", ")) (nothing was removed)"
            case .storage(let message): "stack storage: \(message)"
            }
        }
    }

    public struct Stack: Sendable, Equatable {
        public var name: String
        public var description: String?
        /// Key → JSON text.
        public var values: [String: String]
        public var createdAt: Int64
        public var updatedAt: Int64
        public var runs: Int
        public var lastRunID: Int64?
        public var lastRunAt: Int64?
        public var lastState: String?
        public var lastDurationMillis: Int64?
        public var lastError: String?
        public var lastOutputsJSON: String?
        public var active = false
        public var secrets = 0
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    public func create(_ name: String, description: String?) throws(Error) -> Stack {
        try Error.guarding {
            try database.write { db in
                guard try !db.exists("SELECT 1 FROM stacks WHERE name = ?", [name]) else { throw Error.duplicate(name) }
                let now = database.now()
                try db.execute(sql: "INSERT INTO stacks(name, description, created_at, updated_at) VALUES (?, ?, ?, ?)",
                               arguments: [name, description, now, now])
                try EventStore.insert(db, type: "stack.created", data: ["stack_name": name], stack: name, at: now)
                return try fetch(db, name)
            }
        }
    }

    public func list() throws(Error) -> [Stack] {
        try Error.guarding {
            try database.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM stacks ORDER BY name").map { try fetch(db, $0) }
            }
        }
    }

    public func get(_ name: String) throws(Error) -> Stack {
        try Error.guarding { try database.read { db in try fetch(db, name) } }
    }

    /// Sets values (key → JSON text) and removes keys, in one transaction; a key to unset that the stack
    /// does not hold refuses the whole change.
    public func update(_ name: String, set: [String: String], unset: [String]) throws(Error) -> Stack {
        try Error.guarding {
            try database.write { db in
                let current = try fetch(db, name)
                let missing = unset.filter { current.values[$0] == nil }
                guard missing.isEmpty else { throw Error.unknownKeys(name, keys: missing) }
                for (key, json) in set {
                    try db.execute(sql: "INSERT OR REPLACE INTO stack_values(stack, key, value_json) VALUES (?, ?, ?)", arguments: [name, key, json])
                }
                for key in unset { try db.execute(sql: "DELETE FROM stack_values WHERE stack = ? AND key = ?", arguments: [name, key]) }
                let now = database.now()
                try db.execute(sql: "UPDATE stacks SET updated_at = ? WHERE name = ?", arguments: [now, name])
                let changes = (set.keys.sorted().map { "set \($0)" } + unset.sorted().map { "unset \($0)" }).joined(separator: ", ")
                try EventStore.insert(db, type: "stack.updated", data: ["stack_name": name, "changes": changes], stack: name, at: now)
                return try fetch(db, name)
            }
        }
    }

    /// Deletes the stack with its values, secrets and state; its runs stay in the history. A stack that
    /// schedules use is never deleted; one holding secrets or state only with `force`.
    public func delete(_ name: String, force: Bool) throws(Error) {
        try Error.guarding {
            try database.write { db in
                _ = try fetch(db, name)
                let schedules = try String.fetchAll(db, sql: "SELECT name FROM schedules WHERE stack = ? ORDER BY name", arguments: [name])
                guard schedules.isEmpty else { throw Error.usedBySchedules(name, schedules: schedules) }
                let secrets = try Int.fetchOne(db, sql: "SELECT count(*) FROM secrets WHERE stack = ?", arguments: [name]) ?? 0
                let stateKeys = try Int.fetchOne(db, sql: "SELECT count(*) FROM state WHERE scope = ?", arguments: [name]) ?? 0
                guard force || secrets + stateKeys == 0 else { throw Error.notEmpty(name, secrets: secrets, stateKeys: stateKeys) }
                for table in ["secrets WHERE stack = ?", "state WHERE scope = ?", "state_locks WHERE scope = ?", "stacks WHERE name = ?"] {
                    try db.execute(sql: "DELETE FROM \(table)", arguments: [name])
                }
                try db.execute(sql: "DELETE FROM settings WHERE key = 'stack.active' AND value = ?", arguments: [name])
                try EventStore.insert(db, type: "stack.deleted", data: ["stack_name": name],
                                      numbers: ["secrets_deleted": Int64(secrets), "state_keys_deleted": Int64(stateKeys)], stack: name, at: database.now())
            }
        }
    }

    /// The stack the CLI uses when `--stack` is omitted, if one was activated.
    public func active() throws(Error) -> String? {
        // Read for every run slothd starts: one statement, no transaction around it.
        try Error.guarding {
            try database.readSingleStatement { db in
                try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM settings WHERE key = 'stack.active'"))
            }
        }
    }

    public func activate(_ name: String) throws(Error) -> Stack {
        try Error.guarding {
            try database.write { db in
                _ = try fetch(db, name)
                try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('stack.active', ?)", arguments: [name])
                try EventStore.insert(db, type: "stack.activated", data: ["stack_name": name], stack: name, at: database.now())
                return try fetch(db, name)
            }
        }
    }

    /// A `--stack` as given: omitted means the active stack (if any), empty means none; a named stack
    /// must exist.
    public func resolve(_ given: String?) throws(Error) -> String? {
        guard let given else { return try active() }
        if given.isEmpty { return nil }
        try require(given)
        return given
    }

    /// Throws `.unknown` unless the stack exists.
    public func require(_ name: String) throws(Error) {
        let exists = try Error.guarding {
            try database.read { db in try db.exists("SELECT 1 FROM stacks WHERE name = ?", [name]) }
        }
        if !exists { throw .unknown(name) }
    }

    /// Key → JSON text, for a run in this stack.
    public func values(_ name: String) throws(Error) -> [String: String] {
        try Error.guarding { try database.read { db in try Self.values(db, name) } }
    }

    // MARK: rows

    private static func active(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'stack.active'")
    }

    private static func values(_ db: Database, _ name: String) throws -> [String: String] {
        Dictionary(try Row.fetchAll(db, sql: "SELECT key, value_json FROM stack_values WHERE stack = ?", arguments: [name])
            .map { ($0["key"], $0["value_json"]) }) { $1 }
    }

    private func fetch(_ db: Database, _ name: String) throws -> Stack {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM stacks WHERE name = ?", arguments: [name]) else { throw Error.unknown(name) }
        return Stack(name: row["name"], description: row["description"], values: try Self.values(db, name),
                     createdAt: row["created_at"], updatedAt: row["updated_at"], runs: row["runs"], lastRunID: row["last_run_id"],
                     lastRunAt: row["last_run_at"], lastState: row["last_state"], lastDurationMillis: row["last_duration_ms"],
                     lastError: row["last_error"], lastOutputsJSON: row["last_outputs_json"], active: try Self.active(db) == name,
                     secrets: try Int.fetchOne(db, sql: "SELECT count(*) FROM secrets WHERE stack = ?", arguments: [name]) ?? 0)
    }
}

import GRDB

/// Workflow state (SPEC section 5): JSON values by key, scoped to a stack, with TTLs, atomic counters,
/// compare-and-swap and named locks. Every change is one immediate transaction, so several processes
/// sharing the database see each other's updates atomically.
public struct StateStore: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible, StorageFailure {
        case notANumber(key: String)
        case storage(String)
        public var description: String {
            switch self {
            case .notANumber(let key): "state key \"\(key)\" does not hold a number"
            case .storage(let message): "state storage: \(message)"
            }
        }
    }

    let database: CatalogDatabase
    /// The stack name, or "" outside any stack.
    public let scope: String

    public init(database: CatalogDatabase, scope: String = "") {
        self.database = database
        self.scope = scope
    }

    private static let live = "(expires_at IS NULL OR expires_at > ?)"

    /// The JSON text stored under `key`, unless absent or expired.
    public func get(_ key: String) throws(Error) -> String? {
        try Error.guarding { try database.read { try value($0, key) } }
    }

    /// An operator's change (`sloth state`), recorded in the audit table with the change.
    public struct Audit: Sendable {
        public var uid: UInt32
        public init(uid: UInt32) { self.uid = uid }
    }

    public func set(_ key: String, json: String, ttlSeconds: Double? = nil, audit: Audit? = nil) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try put(db, key, json, ttlSeconds: ttlSeconds)
                try record(db, audit, "state.set", key)
            }
        }
    }

    /// Removes `key`; true if it was there.
    @discardableResult
    public func delete(_ key: String, audit: Audit? = nil) throws(Error) -> Bool {
        try Error.guarding {
            try database.write { db in
                let existed = try value(db, key) != nil
                try db.execute(sql: "DELETE FROM state WHERE scope = ? AND key = ?", arguments: [scope, key])
                if existed { try record(db, audit, "state.delete", key) }
                return existed
            }
        }
    }

    private func record(_ db: Database, _ audit: Audit?, _ action: String, _ key: String) throws {
        guard let audit else { return }
        try AuditStore.insert(db, at: database.now(), uid: audit.uid, action: action, object: key,
                              detail: scope.isEmpty ? nil : "stack \(scope)")
    }

    /// Live keys starting with `prefix`, sorted.
    public func keys(prefix: String = "") throws(Error) -> [String] {
        try Error.guarding {
            try database.read { db in
                try String.fetchAll(db, sql: """
                    SELECT key FROM state WHERE scope = ? AND substr(key, 1, ?) = ? AND \(Self.live) ORDER BY key
                    """, arguments: [scope, prefix.count, prefix, database.now()])
            }
        }
    }

    /// Adds `delta` to the integer under `key` (absent counts as 0) and returns the new value.
    public func increment(_ key: String, by delta: Int64) throws(Error) -> Int64 {
        let result: Result<Int64, Error> = try Error.guarding {
            try database.write { db in
                let current = try value(db, key)
                guard let number = current.map({ Int64($0) }) ?? 0 else { return .failure(.notANumber(key: key)) }
                let next = number &+ delta
                try put(db, key, String(next), ttlSeconds: nil, keepExpiry: true)
                return .success(next)
            }
        }
        return try result.get()
    }

    /// Sets `key` to `new` only if it currently holds `expected` (nil: absent). True if it swapped.
    public func compareAndSwap(_ key: String, expected: String?, new: String) throws(Error) -> Bool {
        try Error.guarding {
            try database.write { db in
                guard try value(db, key) == expected else { return false }
                try put(db, key, new, ttlSeconds: nil, keepExpiry: true)
                return true
            }
        }
    }

    /// Deletes every key starting with `prefix`; returns how many live keys went.
    @discardableResult
    public func clear(prefix: String = "") throws(Error) -> Int {
        try Error.guarding {
            try database.write { db in
                let count = try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM state WHERE scope = ? AND substr(key, 1, ?) = ? AND \(Self.live)
                    """, arguments: [scope, prefix.count, prefix, database.now()]) ?? 0
                try db.execute(sql: "DELETE FROM state WHERE scope = ? AND substr(key, 1, ?) = ?",
                               arguments: [scope, prefix.count, prefix])
                return count
            }
        }
    }

    /// Takes the named lock for `owner` unless someone else holds an unexpired one.
    public func tryLock(_ name: String, owner: String, ttlSeconds: Double) throws(Error) -> Bool {
        try Error.guarding {
            try database.write { db in
                let now = database.now()
                try db.execute(sql: "DELETE FROM state_locks WHERE scope = ? AND name = ? AND expires_at <= ?",
                               arguments: [scope, name, now])
                try db.execute(sql: "INSERT OR IGNORE INTO state_locks(scope, name, owner, expires_at) VALUES (?, ?, ?, ?)",
                               arguments: [scope, name, owner, now + Int64(ttlSeconds * 1000)])
                return try String.fetchOne(db, sql: "SELECT owner FROM state_locks WHERE scope = ? AND name = ?",
                                           arguments: [scope, name]) == owner
            }
        }
    }

    public func unlock(_ name: String, owner: String) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "DELETE FROM state_locks WHERE scope = ? AND name = ? AND owner = ?",
                               arguments: [scope, name, owner])
            }
        }
    }

    // MARK: rows

    private func value(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value_json FROM state WHERE scope = ? AND key = ? AND \(Self.live)",
                            arguments: [scope, key, database.now()])
    }

    private func put(_ db: Database, _ key: String, _ json: String, ttlSeconds: Double?, keepExpiry: Bool = false) throws {
        let now = database.now()
        let expiry: Int64? = ttlSeconds.map { now + Int64($0 * 1000) }
        if keepExpiry {
            try db.execute(sql: """
                INSERT INTO state(scope, key, value_json, expires_at, updated_at) VALUES (?, ?, ?, NULL, ?)
                ON CONFLICT(scope, key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at,
                    expires_at = CASE WHEN state.expires_at IS NOT NULL AND state.expires_at <= ? THEN NULL ELSE state.expires_at END
                """, arguments: [scope, key, json, now, now])
        } else {
            try db.execute(sql: """
                INSERT INTO state(scope, key, value_json, expires_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(scope, key) DO UPDATE SET value_json = excluded.value_json,
                    expires_at = excluded.expires_at, updated_at = excluded.updated_at
                """, arguments: [scope, key, json, expiry, now])
        }
    }
}

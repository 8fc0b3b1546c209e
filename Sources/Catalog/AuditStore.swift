import GRDB

/// Every change made through the control API: who (the peer's uid on the socket, the logged-in user
/// on the dashboard), what, to which object, when.
public struct AuditStore: Sendable {
    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    public func record(uid: UInt32?, user: String? = nil, action: String, object: String, detail: String? = nil) throws {
        try database.write { db in
            try Self.insert(db, at: database.now(), uid: uid, user: user, action: action, object: object, detail: detail)
        }
    }

    /// The audit row of a change made by another store, inside that change's transaction.
    static func insert(_ db: Database, at: Int64, uid: UInt32?, user: String? = nil, action: String, object: String, detail: String?) throws {
        try db.execute(cached: "INSERT INTO audit(at, uid, user, action, object, detail) VALUES (?, ?, ?, ?, ?, ?)",
                       [at, uid.map { Int64($0) }, user, action, object, detail])
    }

    public func recent(limit: Int = 50) throws -> [(uid: Int64?, user: String?, action: String, object: String)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT uid, user, action, object FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit])
                .map { ($0["uid"], $0["user"], $0["action"], $0["object"]) }
        }
    }
}

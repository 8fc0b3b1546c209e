import Foundation
import GRDB

/// Events are rows first (SPEC section 9); dispatching them to hooks comes later.
public struct EventStore: Sendable {
    public struct Event: Sendable, Equatable {
        public var id: Int64
        public var type: String
        public var at: Int64
        public var runID: Int64?
        public var stack: String?
        public var dataJSON: String
        public init(id: Int64, type: String, at: Int64, runID: Int64?, stack: String?, dataJSON: String) {
            (self.id, self.type, self.at, self.runID, self.stack, self.dataJSON) = (id, type, at, runID, stack, dataJSON)
        }
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    @discardableResult
    public func record(type: String, dataJSON: String, runID: Int64? = nil, stack: String? = nil) throws -> Int64 {
        try database.write { db in
            try db.execute(sql: "INSERT INTO events(type, at, run_id, stack, data_json) VALUES (?, ?, ?, ?, ?)",
                           arguments: [type, database.now(), runID, stack, dataJSON])
            return db.lastInsertedRowID
        }
    }

    /// An event whose data are text fields and counts (numbers in its JSON).
    @discardableResult
    public func record(type: String, data: [String: String], numbers: [String: Int64] = [:], runID: Int64? = nil,
                       stack: String? = nil) throws -> Int64 {
        try record(type: type, dataJSON: Self.json(data, numbers), runID: runID, stack: stack)
    }

    private enum Field: Encodable {
        case text(String), number(Int64)
        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            }
        }
    }

    static func json(_ data: [String: String], _ numbers: [String: Int64] = [:]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let fields = data.mapValues(Field.text).merging(numbers.mapValues(Field.number)) { $1 }
        return String(decoding: (try? encoder.encode(fields)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// An event written inside another store's transaction, so the change and its event land together.
    static func insert(_ db: Database, type: String, data: [String: String], numbers: [String: Int64] = [:], stack: String?,
                       runID: Int64? = nil, at: Int64) throws {
        try db.execute(cached: "INSERT INTO events(type, at, run_id, stack, data_json) VALUES (?, ?, ?, ?, ?)",
                       [type, at, runID, stack, json(data, numbers)])
    }

    /// Newest first. `type` is an exact type or a `prefix.*` pattern.
    public func list(type: String? = nil, limit: Int = 50) throws -> [Event] {
        let prefix = type.flatMap { $0.hasSuffix(".*") ? String($0.dropLast()) : nil }
        return try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM events WHERE (?1 IS NULL AND ?2 IS NULL) OR type = ?1 OR substr(type, 1, length(?2)) = ?2
                ORDER BY id DESC LIMIT ?3
                """, arguments: [prefix == nil ? type : nil, prefix, limit]).map(Self.event)
        }
    }

    public func get(_ id: Int64) throws -> Event? {
        try database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM events WHERE id = ?", arguments: [id]).map(Self.event) }
    }

    /// Deletes the events older than `cutoff` (milliseconds since 1970); returns how many went.
    public func cleanup(before cutoff: Int64) throws -> Int {
        try database.write { db in
            try db.execute(sql: "DELETE FROM events WHERE at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    private static func event(_ row: Row) -> Event {
        Event(id: row["id"], type: row["type"], at: row["at"], runID: row["run_id"], stack: row["stack"], dataJSON: row["data_json"])
    }
}

extension EventStore {
    /// Stops a `watch` when released or cancelled.
    public final class Watch: Sendable {
        private let observation: AnyDatabaseCancellable
        init(_ observation: AnyDatabaseCancellable) { self.observation = observation }
        public func cancel() { observation.cancel() }
    }

    /// Calls `changed` after each commit of this process that wrote event rows (GRDB's region
    /// observation), so the hook dispatcher wakes when there is something to do instead of polling.
    public func watch(_ changed: @escaping @Sendable () -> Void) -> Watch {
        Watch(DatabaseRegionObservation(tracking: Table("events")).start(in: database.pool, onError: { _ in }, onChange: { _ in changed() }))
    }
}

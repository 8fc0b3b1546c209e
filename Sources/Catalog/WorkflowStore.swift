import Foundation
import Crypto
import GRDB

/// The workflow catalog: a workflow per name, every add/update kept as a numbered version.
public struct WorkflowStore: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible, StorageFailure {
        case duplicate(String)
        case unknown(String)
        case storage(String)
        public var description: String {
            switch self {
            case .duplicate(let name): "a workflow named \"\(name)\" already exists (use `sloth workflow update`)"
            case .unknown(let name): "no workflow named \"\(name)\""
            case .storage(let message): "catalog storage: \(message)"
            }
        }
    }

    public struct Workflow: Sendable, Equatable, Codable {
        public var name: String
        public var description: String?
        public var tags: [String]
        public var active: Bool
        public var version: Int
        public var sha256: String
        public var filePath: String?
        public var createdAt: Int64
        public var updatedAt: Int64
        public var lastUsedAt: Int64?
        public var usageCount: Int
        public var content: String?
        /// Which of the file's workflows runs, when the file defines several (`--workflow`).
        public var entry: String?
    }

    public struct Version: Sendable, Equatable, Codable {
        public var version: Int
        public var sha256: String
        public var filePath: String?
        public var createdAt: Int64
    }

    /// A workflow to store; its digest is the content's SHA-256.
    public struct NewWorkflow: Sendable {
        public var name: String, content: String, filePath: String?
        public var description: String?, tags: [String], active: Bool
        public var entry: String?
        public var sha256: String { WorkflowStore.digest(content) }
        public init(name: String, content: String, filePath: String?, description: String? = nil, tags: [String] = [], active: Bool = true,
                    entry: String? = nil) {
            (self.name, self.content, self.filePath, self.description, self.tags, self.active, self.entry) =
                (name, content, filePath, description, tags, active, entry)
        }
    }

    /// What `save` did.
    public enum Saved: Sendable, Equatable {
        case added, updated, unchanged
    }

    /// The hex SHA-256 of a workflow's text: its identity across versions.
    public static func digest(_ content: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: SHA256.hash(data: Array(content.utf8)).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    public func add(_ new: NewWorkflow) throws(Error) -> Workflow {
        try Error.guarding {
            try database.write { db in
                guard try Row.fetchOne(db, sql: "SELECT 1 FROM workflows WHERE name = ?", arguments: [new.name]) == nil else {
                    throw Error.duplicate(new.name)
                }
                return try insert(db, new)
            }
        }
    }

    private func insert(_ db: Database, _ new: NewWorkflow) throws -> Workflow {
        let now = database.now()
        try db.execute(sql: """
            INSERT INTO workflows(name, description, tags_json, active, current_version, created_at, updated_at)
            VALUES (?, ?, ?, ?, 1, ?, ?)
            """, arguments: [new.name, new.description, Self.json(new.tags), new.active, now, now])
        try insertVersion(db, workflowID: db.lastInsertedRowID, version: 1, content: new.content, sha256: new.sha256,
                          filePath: new.filePath, entry: new.entry, at: now)
        return try fetch(db, new.name, content: false)
    }

    /// Stores `content` as the next version; the same content and entry as the current version change nothing.
    public func update(name: String, content: String, filePath: String?, entry: String? = nil) throws(Error) -> (Workflow, changed: Bool) {
        try Error.guarding { try database.write { db in try update(db, name: name, content: content, filePath: filePath, entry: entry) } }
    }

    /// Adds the workflow, or stores its content as the next version of the one of that name (`sloth.workflow.add`
    /// from a workflow): one transaction.
    public func save(_ new: NewWorkflow) throws(Error) -> (Workflow, Saved) {
        try Error.guarding {
            try database.write { db in
                guard try Row.fetchOne(db, sql: "SELECT 1 FROM workflows WHERE name = ?", arguments: [new.name]) != nil else {
                    return (try insert(db, new), .added)
                }
                let (workflow, changed) = try update(db, name: new.name, content: new.content, filePath: new.filePath, entry: new.entry)
                return (workflow, changed ? .updated : .unchanged)
            }
        }
    }

    private func update(_ db: Database, name: String, content: String, filePath: String?, entry: String?) throws -> (Workflow, changed: Bool) {
        let sha256 = Self.digest(content)
        let current = try fetch(db, name, content: false)
        guard current.sha256 != sha256 || current.entry != entry else { return (current, false) }
        let id = try Int64.fetchOne(db, sql: "SELECT id FROM workflows WHERE name = ?", arguments: [name])!
        let now = database.now()
        try insertVersion(db, workflowID: id, version: current.version + 1, content: content, sha256: sha256,
                          filePath: filePath, entry: entry, at: now)
        try db.execute(sql: "UPDATE workflows SET current_version = ?, updated_at = ? WHERE id = ?",
                       arguments: [current.version + 1, now, id])
        return (try fetch(db, name, content: false), true)
    }

    public func get(_ name: String, content: Bool = true) throws(Error) -> Workflow {
        try Error.guarding { try database.readSingleStatement { try fetch($0, name, content: content) } }
    }

    public func list() throws(Error) -> [Workflow] {
        try Error.guarding {
            try database.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM workflows ORDER BY name").map { try fetch(db, $0, content: false) }
            }
        }
    }

    public func history(_ name: String) throws(Error) -> [Version] {
        try Error.guarding {
            try database.read { db in
                _ = try fetch(db, name, content: false)
                return try Row.fetchAll(db, sql: """
                    SELECT v.version, v.sha256, v.file_path, v.created_at FROM workflow_versions v
                    JOIN workflows w ON w.id = v.workflow_id WHERE w.name = ? ORDER BY v.version DESC
                    """, arguments: [name]).map {
                    Version(version: $0["version"], sha256: $0["sha256"], filePath: $0["file_path"], createdAt: $0["created_at"])
                }
            }
        }
    }

    /// The text of one stored version (nil: the workflow has no such version).
    public func source(_ name: String, version: Int) throws(Error) -> String? {
        try Error.guarding {
            try database.read { db in
                _ = try fetch(db, name, content: false)
                return try String.fetchOne(db, sql: """
                    SELECT v.content FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id WHERE w.name = ? AND v.version = ?
                    """, arguments: [name, version])
            }
        }
    }

    public func remove(_ name: String) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "DELETE FROM workflows WHERE name = ?", arguments: [name])
                guard db.changesCount > 0 else { throw Error.unknown(name) }
            }
        }
    }

    public func setActive(_ name: String, _ active: Bool) throws(Error) -> Workflow {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "UPDATE workflows SET active = ?, updated_at = ? WHERE name = ?",
                               arguments: [active, database.now(), name])
                guard db.changesCount > 0 else { throw Error.unknown(name) }
                return try fetch(db, name, content: false)
            }
        }
    }

    // MARK: rows

    private func fetch(_ db: Database, _ name: String, content: Bool) throws -> Workflow {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT w.*, v.sha256, v.file_path, v.content, v.entry FROM workflows w
            JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version WHERE w.name = ?
            """), arguments: [name]) else { throw Error.unknown(name) }
        // Read for every run started: most workflows have no tags, and JSONDecoder costs more than the query.
        let tagsJSON: String = row["tags_json"]
        let tags = tagsJSON == "[]" ? [] : (try? JSONDecoder().decode([String].self, from: Data(tagsJSON.utf8))) ?? []
        return Workflow(name: row["name"], description: row["description"], tags: tags, active: row["active"],
                        version: row["current_version"], sha256: row["sha256"], filePath: row["file_path"],
                        createdAt: row["created_at"], updatedAt: row["updated_at"], lastUsedAt: row["last_used_at"],
                        usageCount: row["usage_count"], content: content ? row["content"] : nil, entry: row["entry"])
    }

    private func insertVersion(_ db: Database, workflowID: Int64, version: Int, content: String, sha256: String,
                               filePath: String?, entry: String?, at: Int64) throws {
        try db.execute(sql: """
            INSERT INTO workflow_versions(workflow_id, version, content, sha256, file_path, entry, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [workflowID, version, content, sha256, filePath, entry, at])
    }

    private static func json(_ tags: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(tags)) ?? Data("[]".utf8), as: UTF8.self)
    }
}

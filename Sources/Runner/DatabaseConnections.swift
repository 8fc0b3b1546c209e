import Foundation

/// One open database of the `database` module (SQLite or PostgreSQL), used by one operation at a time.
protocol DatabaseLink: AnyObject, Sendable {
    func query(_ sql: String, _ parameters: [LuaValue]) throws -> [LuaValue]
    /// -> (rows affected, last insert id where the database has one)
    func execute(_ sql: String, _ parameters: [LuaValue]) throws -> (rows: Int64, lastID: Int64?)
    /// Every statement, or none: the first failure rolls back and is thrown.
    func transaction(_ statements: [(sql: String, parameters: [LuaValue])]) throws
    func ping() throws
    func close()
}

struct DatabaseError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The run's named connections (`db.connect(name, driver, dsn)`). Each call runs on its own thread
/// and yields the Lua side like `exec`; the connections close when the run's state goes.
final class DatabaseConnections: @unchecked Sendable {
    private let lock = NSLock()
    private var links: [String: DatabaseLink] = [:]
    static let maxConnections = 32

    deinit { links.values.forEach { $0.close() } }

    func start(spec: LuaValue, finish: @escaping @Sendable (LuaValue) -> Void) {
        Thread.detachNewThread { [self] in
            do {
                finish(try perform(spec))
            } catch {
                finish(LuaTable.record(["error": .string("\(error)")]))
            }
        }
    }

    private func perform(_ spec: LuaValue) throws -> LuaValue {
        let name = spec["name"].string ?? "default"
        switch spec["op"].string ?? "" {
        case "connect":
            let link = try Self.open(driver: spec["driver"].string ?? "", dsn: spec["dsn"].string ?? "")
            let replaced: DatabaseLink? = try lock.withLock {
                guard links[name] != nil || links.count < Self.maxConnections else {
                    throw DatabaseError("too many open connections (at most \(Self.maxConnections) per run)")
                }
                defer { links[name] = link }
                return links[name]
            }
            replaced?.close()
            return .boolean(true)
        case "disconnect":
            lock.withLock { links.removeValue(forKey: name) }?.close()
            return .boolean(true)
        case "close_all":
            let all = lock.withLock { () -> [DatabaseLink] in defer { links = [:] }; return Array(links.values) }
            all.forEach { $0.close() }
            return .boolean(true)
        default:
            return try use(spec, link: link(name))
        }
    }

    private func use(_ spec: LuaValue, link: DatabaseLink) throws -> LuaValue {
        let sql = spec["sql"].string ?? ""
        let parameters = spec["params"].table?.array ?? []
        switch spec["op"].string ?? "" {
        case "query":
            return LuaTable.list(try link.query(sql, parameters))
        case "exec":
            let (rows, lastID) = try link.execute(sql, parameters)
            var result: [String: LuaValue] = ["rows_affected": .integer(rows)]
            if let lastID { result["last_insert_id"] = .integer(lastID) }
            return LuaTable.record(result)
        case "transaction":
            let statements = (spec["statements"].table?.array ?? []).map { statement in
                (sql: statement["query"].string ?? statement["sql"].string ?? "", parameters: statement["params"].table?.array ?? [])
            }
            try link.transaction(statements)
            return .boolean(true)
        case "ping":
            try link.ping()
            return .boolean(true)
        case let other:
            throw DatabaseError("unknown database operation '\(other)'")
        }
    }

    private func link(_ name: String) throws -> DatabaseLink {
        guard let link = lock.withLock({ links[name] }) else {
            throw DatabaseError("no connection named '\(name)' (call db.connect(\"\(name)\", driver, dsn) first)")
        }
        return link
    }

    static func open(driver: String, dsn: String) throws -> DatabaseLink {
        switch driver.lowercased() {
        case "sqlite", "sqlite3":
            return try SQLiteLink(path: dsn)
        case "postgres", "postgresql", "pg":
            return try PostgresLink(dsn: dsn)
        case "mysql", "mariadb":
            throw DatabaseError("driver '\(driver)': MySQL/MariaDB are not built into slothd (sqlite3 and postgres are)")
        default:
            throw DatabaseError("unknown driver '\(driver)' (expected sqlite3 or postgres)")
        }
    }
}

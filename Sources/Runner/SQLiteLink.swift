import GRDB

/// The `database` module's SQLite driver: a GRDB queue on the file (`:memory:` for none).
final class SQLiteLink: DatabaseLink, @unchecked Sendable {
    private let queue: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        queue = path == ":memory:" ? try DatabaseQueue(configuration: configuration)
                                   : try DatabaseQueue(path: path, configuration: configuration)
    }

    func query(_ sql: String, _ parameters: [LuaValue]) throws -> [LuaValue] {
        try queue.read { db in
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(parameters)).map(Self.record)
        }
    }

    func execute(_ sql: String, _ parameters: [LuaValue]) throws -> (rows: Int64, lastID: Int64?) {
        try queue.write { db in
            try db.execute(sql: sql, arguments: Self.arguments(parameters))
            return (Int64(db.changesCount), db.lastInsertedRowID)
        }
    }

    func transaction(_ statements: [(sql: String, parameters: [LuaValue])]) throws {
        try queue.write { db in
            for statement in statements { try db.execute(sql: statement.sql, arguments: Self.arguments(statement.parameters)) }
        }
    }

    func ping() throws { _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT 1") } }

    func close() { try? queue.close() }

    static func arguments(_ parameters: [LuaValue]) -> StatementArguments {
        StatementArguments(parameters.map { (value: LuaValue) -> (any DatabaseValueConvertible)? in
            switch value {
            case .nil_, .table: nil
            case .boolean(let flag): flag
            case .integer(let number): number
            case .number(let number): number
            case .string(let text): text
            }
        })
    }

    static func record(_ row: Row) -> LuaValue {
        var fields: [String: LuaValue] = [:]
        for (column, value) in row {
            switch value.storage {
            case .null: continue
            case .int64(let number): fields[column] = .integer(number)
            case .double(let number): fields[column] = .number(number)
            case .string(let text): fields[column] = .string(text)
            case .blob(let data): fields[column] = .string(String(decoding: data, as: UTF8.self))
            }
        }
        return .table(LuaTable(fields: fields))
    }
}

import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The `database` module's PostgreSQL driver (postgres-nio). Called from an operation's own thread,
/// so it waits on postgres-nio's futures there; `?` placeholders become `$1, $2, ...`.
final class PostgresLink: DatabaseLink, @unchecked Sendable {
    private let connection: PostgresConnection
    private static let quiet = Logger(label: "slothd.database", factory: { _ in SwiftLogNoOpLogHandler() })

    init(dsn: String) throws {
        let settings = try PostgresDSN(dsn)
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: settings.password,
            database: settings.database, tls: try settings.tls())
        configuration.options.connectTimeout = .seconds(10)
        do {
            connection = try PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 1, logger: Self.quiet).wait()
        } catch {
            throw DatabaseError("postgres: cannot connect to \(settings.host):\(settings.port): \(Self.reason(error))")
        }
    }

    func query(_ sql: String, _ parameters: [LuaValue]) throws -> [LuaValue] {
        try run(sql, parameters).rows.map(Self.record)
    }

    func execute(_ sql: String, _ parameters: [LuaValue]) throws -> (rows: Int64, lastID: Int64?) {
        let result = try run(sql, parameters)
        return (Int64(result.metadata.rows ?? 0), nil)
    }

    func transaction(_ statements: [(sql: String, parameters: [LuaValue])]) throws {
        _ = try run("BEGIN", [])
        do {
            for statement in statements { _ = try run(statement.sql, statement.parameters) }
            _ = try run("COMMIT", [])
        } catch {
            _ = try? run("ROLLBACK", [])
            throw error
        }
    }

    func ping() throws { _ = try run("SELECT 1", []) }

    /// Waits for the close: postgres-nio traps when a connection it has not closed is released.
    func close() { try? connection.close().wait() }

    private func run(_ sql: String, _ parameters: [LuaValue]) throws -> PostgresQueryResult {
        do {
            return try connection.query(Self.numbered(sql), parameters.map(Self.data)).wait()
        } catch {
            throw DatabaseError("postgres: \(Self.reason(error))")
        }
    }

    /// The server's own message where there is one (postgres-nio's description hides it).
    private static func reason(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] { return message }
            return "\(psql.code)"
        }
        return "\(error)"
    }

    /// `?` outside quotes becomes `$n`, so the same statement works for both drivers.
    static func numbered(_ sql: String) -> String {
        var result = "", quote: Character? = nil, index = 0
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "?" {
                index += 1
                result += "$\(index)"
                continue
            }
            result.append(character)
        }
        return result
    }

    static func data(_ value: LuaValue) -> PostgresData {
        switch value {
        case .nil_, .table: .null
        case .boolean(let flag): PostgresData(bool: flag)
        case .integer(let number): PostgresData(int64: number)
        case .number(let number): PostgresData(double: number)
        case .string(let text): PostgresData(string: text)
        }
    }

    static func record(_ row: PostgresRow) -> LuaValue {
        var fields: [String: LuaValue] = [:]
        for cell in row where cell.bytes != nil { fields[cell.columnName] = value(cell) }
        return .table(LuaTable(fields: fields))
    }

    private static func value(_ cell: PostgresCell) -> LuaValue {
        switch cell.dataType {
        case .int2, .int4, .int8: if let number = try? cell.decode(Int64.self) { return .integer(number) }
        case .float4, .float8: if let number = try? cell.decode(Double.self) { return .number(number) }
        case .bool: if let flag = try? cell.decode(Bool.self) { return .boolean(flag) }
        default: break
        }
        if let text = try? cell.decode(String.self) { return .string(text) }
        var bytes = cell.bytes!
        return .string(bytes.readString(length: bytes.readableBytes) ?? "")
    }
}

/// `host=h port=5432 user=u password=p dbname=d sslmode=disable`, or `postgres://u:p@h:5432/d?sslmode=disable`.
struct PostgresDSN {
    var host = "localhost", port = 5432, user = "postgres", password: String?, database: String?, sslMode = "prefer"

    init(_ dsn: String) throws {
        if dsn.hasPrefix("postgres://") || dsn.hasPrefix("postgresql://") {
            guard let url = URLComponents(string: dsn) else { throw DatabaseError("postgres: cannot read the URL '\(dsn)'") }
            host = url.host.flatMap { $0.isEmpty ? nil : $0 } ?? host
            port = url.port ?? port
            user = url.user ?? user
            password = url.password
            database = url.path.count > 1 ? String(url.path.dropFirst()) : nil
            sslMode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? sslMode
            return
        }
        for pair in dsn.split(separator: " ", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw DatabaseError("postgres: '\(pair)' in the connection string is not key=value") }
            switch parts[0] {
            case "host": host = parts[1]
            case "port":
                guard let number = Int(parts[1]) else { throw DatabaseError("postgres: port '\(parts[1])' is not a number") }
                port = number
            case "user": user = parts[1]
            case "password": password = parts[1]
            case "dbname": database = parts[1]
            case "sslmode": sslMode = parts[1]
            default: break
            }
        }
    }

    func tls() throws -> PostgresConnection.Configuration.TLS {
        switch sslMode {
        case "disable": return .disable
        case "allow", "prefer": return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case "require", "verify-ca", "verify-full": return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: throw DatabaseError("postgres: unknown sslmode '\(sslMode)'")
        }
    }
}

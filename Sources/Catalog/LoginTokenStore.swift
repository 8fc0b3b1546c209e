import Crypto
import Foundation
import GRDB

/// The dashboard's login tokens (SPEC section 11): `sloth ui --token` makes one for a user; its text is
/// shown once and kept only as its SHA-256 hash. Creating and revoking one is audited.
public struct LoginTokenStore: Sendable {
    public struct Token: Sendable, Equatable {
        public var id: Int64
        public var user: String
        public var createdAt: Int64
        public var revokedAt: Int64?
        public var lastUsedAt: Int64?
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownToken(Int64)
        public var description: String {
            switch self {
            case .unknownToken(let id): "no login token \(id) (sloth ui --list-tokens)"
            }
        }
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    /// A new token for `user`: the text is returned here and never again.
    public func create(user: String, requestedBy uid: UInt32?) throws -> (token: Token, secret: String) {
        var random = SystemRandomNumberGenerator()
        let secret = "slt_" + (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &random)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
        return try database.write { db in
            let now = database.now()
            try db.execute(sql: "INSERT INTO login_tokens(user, hash, created_at) VALUES (?, ?, ?)", arguments: [user, AgentStore.hash(secret), now])
            let id = db.lastInsertedRowID
            try AuditStore.insert(db, at: now, uid: uid, action: "login_token.create", object: user, detail: "token \(id)")
            return (Token(id: id, user: user, createdAt: now), secret)
        }
    }

    /// The user a presented token logs in, or nil (unknown or revoked); notes when it was last used.
    public func user(presenting secret: String) throws -> String? {
        try database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, user FROM login_tokens WHERE hash = ? AND revoked_at IS NULL",
                                             arguments: [AgentStore.hash(secret)]) else { return nil }
            try db.execute(sql: "UPDATE login_tokens SET last_used_at = ? WHERE id = ?", arguments: [database.now(), row["id"] as Int64])
            return row["user"]
        }
    }

    public func list() throws -> [Token] {
        try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM login_tokens ORDER BY id").map(Self.token) }
    }

    public func revoke(_ id: Int64, requestedBy uid: UInt32?) throws -> Token {
        try database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM login_tokens WHERE id = ?", arguments: [id]) else {
                throw Failure.unknownToken(id)
            }
            var token = Self.token(row)
            guard token.revokedAt == nil else { return token }
            let now = database.now()
            try db.execute(sql: "UPDATE login_tokens SET revoked_at = ? WHERE id = ?", arguments: [now, id])
            try AuditStore.insert(db, at: now, uid: uid, action: "login_token.revoke", object: token.user, detail: "token \(id)")
            token.revokedAt = now
            return token
        }
    }

    private static func token(_ row: Row) -> Token {
        Token(id: row["id"], user: row["user"], createdAt: row["created_at"], revokedAt: row["revoked_at"], lastUsedAt: row["last_used_at"])
    }
}

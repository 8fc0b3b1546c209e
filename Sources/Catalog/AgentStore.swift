import Crypto
import Foundation
import GRDB

/// Agents and their tokens (SPEC section 8). A token is shown once when created and kept only as its
/// SHA-256; an agent's row is what it said about itself when it last registered, and whether it is
/// connected. Live figures (running tasks, the last heartbeat) are the hub's, not stored per beat.
public struct AgentStore: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible, StorageFailure {
        case unknownAgent(String)
        case unknownToken(Int64)
        case connected(String)
        case storage(String)
        public var description: String {
            switch self {
            case .unknownAgent(let name): "no agent named \"\(name)\" (sloth agent list)"
            case .unknownToken(let id): "no agent token \(id) (sloth agent token list)"
            case .connected(let name): "agent \"\(name)\" is connected: stop it first (its token can be revoked with sloth agent token revoke)"
            case .storage(let message): "agent storage: \(message)"
            }
        }
    }

    public struct Token: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var createdAt: Int64
        public var revokedAt: Int64?
        public var lastUsedAt: Int64?
    }

    /// Why a presented token is or is not accepted.
    public enum TokenCheck: Sendable, Equatable {
        case accepted(Token)
        case unknown
        case revoked(Token)
        /// The token was made for another agent name.
        case otherName(Token)
    }

    public struct Agent: Sendable, Equatable {
        public var name: String
        public var status: String
        public var address: String?
        public var tags: [String: String]
        public var facts: [String: String]
        public var version: String?
        public var registeredAt: Int64
        public var lastSeenAt: Int64
    }

    /// What an agent says when it registers.
    public struct Registration: Sendable, Equatable {
        public var name: String
        public var address: String
        public var tags: [String: String]
        public var facts: [String: String]
        public var version: String
        public var tokenID: Int64
        public init(name: String, address: String, tags: [String: String], facts: [String: String], version: String, tokenID: Int64) {
            (self.name, self.address, self.tags, self.facts, self.version, self.tokenID) = (name, address, tags, facts, version, tokenID)
        }
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// A new token for the agent `name`: the text is returned here and never again.
    public func createToken(name: String) throws(Error) -> (token: Token, secret: String) {
        var bytes = SystemRandomNumberGenerator()
        let secret = "sat_" + (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &bytes), radix: 16) }
            .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        return try Error.guarding {
            try database.write { db in
                let now = database.now()
                try db.execute(sql: "INSERT INTO agent_tokens(name, hash, created_at) VALUES (?, ?, ?)", arguments: [name, Self.hash(secret), now])
                let id = db.lastInsertedRowID
                try EventStore.insert(db, type: "agent.token_created", data: ["agent_name": name], numbers: ["token_id": id], stack: nil, at: now)
                return (Token(id: id, name: name, createdAt: now), secret)
            }
        }
    }

    public func tokens() throws(Error) -> [Token] {
        try Error.guarding {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM agent_tokens ORDER BY id").map(Self.token)
            }
        }
    }

    public func revokeToken(_ id: Int64) throws(Error) -> Token {
        try Error.guarding {
            try database.write { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM agent_tokens WHERE id = ?", arguments: [id]) else { throw Error.unknownToken(id) }
                var token = Self.token(row)
                guard token.revokedAt == nil else { return token }
                let now = database.now()
                try db.execute(sql: "UPDATE agent_tokens SET revoked_at = ? WHERE id = ?", arguments: [now, id])
                try EventStore.insert(db, type: "agent.token_revoked", data: ["agent_name": token.name], numbers: ["token_id": id], stack: nil, at: now)
                token.revokedAt = now
                return token
            }
        }
    }

    /// Checks a presented token; a refusal is recorded as an `agent.auth_failed` event with its reason.
    public func authenticate(name: String, token secret: String, address: String) throws(Error) -> TokenCheck {
        try Error.guarding {
            try database.write { db in
                let now = database.now()
                let row = try Row.fetchOne(db, sql: "SELECT * FROM agent_tokens WHERE hash = ?", arguments: [Self.hash(secret)])
                let check: TokenCheck
                switch row.map(Self.token) {
                case nil: check = .unknown
                case let token? where token.revokedAt != nil: check = .revoked(token)
                case let token? where token.name != name: check = .otherName(token)
                case let token?: check = .accepted(token)
                }
                if case .accepted(let token) = check {
                    try db.execute(sql: "UPDATE agent_tokens SET last_used_at = ? WHERE id = ?", arguments: [now, token.id])
                } else {
                    try EventStore.insert(db, type: "agent.auth_failed",
                                          data: ["agent_name": name, "address": address, "reason": Self.reason(check)], stack: nil, at: now)
                }
                return check
            }
        }
    }

    /// What an agent is told when its token is refused (and what the event records).
    public static func reason(_ check: TokenCheck) -> String {
        switch check {
        case .accepted: "accepted"
        case .unknown: "unknown token"
        case .revoked(let token): "token \(token.id) was revoked"
        case .otherName(let token): "token \(token.id) belongs to agent \"\(token.name)\""
        }
    }

    /// Records a (re)connected agent: `agent.registered` the first time, `agent.connected` every time.
    public func connected(_ registration: Registration) throws(Error) {
        try Error.guarding {
            try database.write { db in
                let now = database.now()
                let known = try db.exists("SELECT 1 FROM agents WHERE name = ?", [registration.name])
                try db.execute(sql: """
                    INSERT INTO agents(name, status, address, tags_json, facts_json, version, token_id, registered_at, last_seen_at)
                    VALUES (?, 'connected', ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET status = 'connected', address = excluded.address, tags_json = excluded.tags_json,
                        facts_json = excluded.facts_json, version = excluded.version, token_id = excluded.token_id,
                        last_seen_at = excluded.last_seen_at
                    """, arguments: [registration.name, registration.address, Self.json(registration.tags), Self.json(registration.facts),
                                     registration.version, registration.tokenID, now, now])
                let data = ["agent_name": registration.name, "address": registration.address, "version": registration.version]
                if !known { try EventStore.insert(db, type: "agent.registered", data: data, stack: nil, at: now) }
                try EventStore.insert(db, type: "agent.connected", data: data, stack: nil, at: now)
            }
        }
    }

    /// The agent's stream ended or it went silent: `reason` is in the `agent.disconnected` event.
    public func disconnected(_ name: String, lastSeenAt: Int64, reason: String) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try db.execute(sql: "UPDATE agents SET status = 'disconnected', last_seen_at = ? WHERE name = ?", arguments: [lastSeenAt, name])
                try EventStore.insert(db, type: "agent.disconnected", data: ["agent_name": name, "reason": reason], stack: nil, at: database.now())
            }
        }
    }

    /// The agent sent nothing for the whole lease period: recorded before it is disconnected.
    public func heartbeatFailed(_ name: String, silentMillis: Int64) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try EventStore.insert(db, type: "agent.heartbeat_failed", data: ["agent_name": name], numbers: ["silent_ms": silentMillis],
                                      stack: nil, at: database.now())
            }
        }
    }

    /// At the master's start no agent is connected yet, whatever the rows said when it stopped.
    public func markAllDisconnected() throws(Error) {
        try Error.guarding {
            try database.write { db in try db.execute(sql: "UPDATE agents SET status = 'disconnected' WHERE status <> 'disconnected'") }
        }
    }

    public func list() throws(Error) -> [Agent] {
        try Error.guarding {
            try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY name").map(Self.agent) }
        }
    }

    public func get(_ name: String) throws(Error) -> Agent {
        try Error.guarding {
            try database.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE name = ?", arguments: [name]) else { throw Error.unknownAgent(name) }
                return Self.agent(row)
            }
        }
    }

    /// Forgets a disconnected agent (its tokens stay until revoked).
    public func remove(_ name: String) throws(Error) {
        try Error.guarding {
            try database.write { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE name = ?", arguments: [name]) else { throw Error.unknownAgent(name) }
                guard Self.agent(row).status != "connected" else { throw Error.connected(name) }
                try db.execute(sql: "DELETE FROM agents WHERE name = ?", arguments: [name])
                try EventStore.insert(db, type: "agent.removed", data: ["agent_name": name], stack: nil, at: database.now())
            }
        }
    }

    /// The delegated tasks an agent ran, newest first: (run id, task, status, ended at).
    public func recentTasks(_ name: String, limit: Int = 10) throws(Error) -> [(runID: Int64, task: String, status: String, endedAt: Int64?)] {
        try Error.guarding {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT run_id, name, status, ended_at FROM run_tasks WHERE agent = ? ORDER BY run_id DESC LIMIT ?",
                                 arguments: [name, limit]).map { ($0["run_id"], $0["name"], $0["status"], $0["ended_at"]) }
            }
        }
    }

    private static func token(_ row: Row) -> Token {
        Token(id: row["id"], name: row["name"], createdAt: row["created_at"], revokedAt: row["revoked_at"], lastUsedAt: row["last_used_at"])
    }

    private static func agent(_ row: Row) -> Agent {
        Agent(name: row["name"], status: row["status"], address: row["address"], tags: dictionary(row["tags_json"]),
              facts: dictionary(row["facts_json"]), version: row["version"], registeredAt: row["registered_at"], lastSeenAt: row["last_seen_at"])
    }

    static func json(_ fields: [String: String]) -> String {
        (try? JSONEncoder.sorted.encode(fields)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    static func dictionary(_ text: String?) -> [String: String] {
        text.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
    }
}

private extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}

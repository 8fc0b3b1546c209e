@testable import Catalog
import Foundation
import Testing

@Suite("Agent tokens and rows")
struct AgentStoreTests {
    @Test("a token is kept as its hash, works for its own agent only, and a revoked one is refused; refusals are events")
    func tokenChecks() throws {
        let database = try temporaryDatabase()
        let agents = AgentStore(database: database)
        let (token, secret) = try agents.createToken(name: "web-01")
        #expect(secret.hasPrefix("sat_") && secret.count == 68)
        let stored = try String(contentsOfFile: database.path, encoding: .isoLatin1)
        #expect(!stored.contains(secret))
        let rows: [(name: String, token: String, expected: AgentStore.TokenCheck)] = [
            ("web-01", secret, .accepted(try agents.tokens()[0])),
            ("web-02", secret, .otherName(try agents.tokens()[0])),

            ("web-01", "sat_wrong", .unknown),
        ]
        for row in rows {
            #expect(Self.withoutUse(try agents.authenticate(name: row.name, token: row.token, address: "127.0.0.1:1")) == Self.withoutUse(row.expected),
                    "\(row.name)")
        }
        let revoked = try agents.revokeToken(token.id)
        #expect(revoked.revokedAt != nil)
        guard case .revoked = try agents.authenticate(name: "web-01", token: secret, address: "127.0.0.1:1") else {
            Issue.record("a revoked token was not refused")
            return
        }
        let reasons = try EventStore(database: database).list(type: "agent.auth_failed").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.dataJSON.utf8)) as? [String: Any])?["reason"] as? String
        }
        #expect(Set(reasons) == ["unknown token", "token \(token.id) belongs to agent \"web-01\"", "token \(token.id) was revoked"])
        #expect(throws: AgentStore.Error.unknownToken(99)) { try agents.revokeToken(99) }
    }

    /// The check with the token's last use cleared (an accepted check sets it).
    static func withoutUse(_ check: AgentStore.TokenCheck) -> AgentStore.TokenCheck {
        switch check {
        case .accepted(var token): token.lastUsedAt = nil; return .accepted(token)
        case .otherName(var token): token.lastUsedAt = nil; return .otherName(token)
        case .revoked(var token): token.lastUsedAt = nil; return .revoked(token)
        case .unknown: return .unknown
        }
    }

    @Test("registered once, connected each time; a connected agent cannot be removed, a disconnected one can")
    func agentRows() throws {
        let database = try temporaryDatabase()
        let agents = AgentStore(database: database)
        let registration = AgentStore.Registration(name: "web-01", address: "127.0.0.1:5", tags: ["role": "web"], facts: ["os": "linux"],
                                                   version: "0.1.0", tokenID: 1)
        try agents.connected(registration)
        try agents.connected(registration)
        let events = EventStore(database: database)
        #expect(try events.list(type: "agent.registered").count == 1)
        #expect(try events.list(type: "agent.connected").count == 2)
        #expect(try agents.get("web-01").tags == ["role": "web"])
        #expect(throws: AgentStore.Error.connected("web-01")) { try agents.remove("web-01") }
        try agents.disconnected("web-01", lastSeenAt: 5, reason: "closed its stream")
        #expect(try agents.get("web-01").status == "disconnected")
        try agents.remove("web-01")
        #expect(throws: AgentStore.Error.unknownAgent("web-01")) { try agents.get("web-01") }
    }
}

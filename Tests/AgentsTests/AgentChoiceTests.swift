@testable import Agents
import Catalog
import Foundation
import Runner
import Testing

@Suite("Choosing the agent for a delegated task")
struct AgentChoiceTests {
    typealias Candidate = AgentChoice.Candidate

    static let web1 = Candidate(name: "web-01", tags: ["role": "web", "zone": "a"], running: 2)
    static let web2 = Candidate(name: "web-02", tags: ["role": "web", "zone": "b"], running: 0)
    static let web3 = Candidate(name: "web-03", tags: ["role": "web", "zone": "b"], running: 0)
    static let db1 = Candidate(name: "db-01", tags: ["role": "db"], running: 5)

    static let rows: [(String, AgentTarget, [Candidate], AgentChoice.Decision)] = [
        ("a named agent that is connected", .names(["db-01"]), [web1, db1], .chosen("db-01", reason: "named")),
        ("a named agent that is not connected", .names(["db-02"]), [web1, db1], .unavailable(reason: "it is not connected")),
        ("the first connected of a list", .names(["db-02", "web-01", "web-02"]), [web1, web2],
         .chosen("web-01", reason: "named; db-02 not available")),
        ("none of a list connected", .names(["a", "b"]), [web1], .unavailable(reason: "none is connected")),
        ("a busy named agent still gets it (it queues)", .names(["db-01"]), [db1], .chosen("db-01", reason: "named")),
        ("tags: the least busy match", .tags(["role": "web"]), [web1, web2, db1],
         .chosen("web-02", reason: "least busy of 2 matching (web-01, web-02)")),
        ("tags: ties go by name", .tags(["role": "web", "zone": "b"]), [web3, web2, web1],
         .chosen("web-02", reason: "least busy of 2 matching (web-02, web-03)")),
        ("tags: every tag must match", .tags(["role": "web", "zone": "c"]), [web1, web2],
         .unavailable(reason: "no connected agent has those tags")),
        ("tags: no agent at all (never every agent, never the master)", .tags(["role": "web"]), [],
         .unavailable(reason: "no connected agent has those tags")),
    ]

    @Test("table", arguments: rows.indices)
    func decide(_ index: Int) {
        let (scenario, target, candidates, expected) = Self.rows[index]
        #expect(AgentChoice.pick(target, among: candidates) == expected, "\(scenario)")
    }

    static let targets: [(LuaValue, AgentTarget?)] = [
        (.string("web-01"), .names(["web-01"])),
        (.table(LuaTable(array: [.string("a"), .string("b")])), .names(["a", "b"])),
        (.table(LuaTable(fields: ["tags": .table(LuaTable(fields: ["role": .string("web"), "n": .integer(2)]))])), .tags(["role": "web", "n": "2"])),
        (.table(LuaTable()), nil),
        (.integer(3), nil),
    ]

    @Test("delegate_to's forms", arguments: targets.indices)
    func targetForms(_ index: Int) {
        #expect(AgentTarget(lua: Self.targets[index].0) == Self.targets[index].1)
    }
}

@Suite("The agents' listener")
struct AgentListenerTests {
    static let plain = AgentTLS(certificate: nil, key: nil, authority: nil)
    static let tls = AgentTLS(certificate: "/c.pem", key: "/k.pem", authority: nil)

    static let rows: [(host: String, tls: AgentTLS, warned: Bool)] = [
        ("127.0.0.1", plain, false), ("127.0.0.2", plain, false), ("localhost", plain, false), ("::1", plain, false),
        ("0.0.0.0", plain, true), ("10.0.0.5", plain, true), ("::", plain, true), ("10.0.0.5", tls, false),
    ]

    @Test("a non-loopback address without TLS is warned about", arguments: rows.indices)
    func insecure(_ index: Int) throws {
        let row = Self.rows[index]
        let hub = AgentHub(database: try CatalogDatabase(path: FileManager.default.temporaryDirectory
                            .appendingPathComponent("agents-\(UUID().uuidString)/slothd.db").path),
                           keyring: SecretKeyring(stateDirectory: "/nonexistent", environment: [:]))
        #expect(AgentServer(host: row.host, port: 0, hub: hub, tls: row.tls).isInsecure == row.warned, "\(row.host)")
    }

    static let tlsProblems: [(AgentTLS, master: Bool, String?)] = [
        (AgentTLS(certificate: "/c", key: nil, authority: nil), true, "--tls-cert and --tls-key go together"),
        (AgentTLS(certificate: nil, key: nil, authority: "/ca"), true, "--tls-ca on the master needs --tls-cert and --tls-key"),
        (AgentTLS(certificate: nil, key: nil, authority: "/ca"), false, nil),
        (tls, true, nil),
    ]

    @Test("TLS options that cannot work are refused with what is missing", arguments: tlsProblems.indices)
    func tlsOptions(_ index: Int) {
        let (options, master, expected) = Self.tlsProblems[index]
        #expect(options.problem(master: master) == expected)
    }
}

@Suite("Refused registrations per host")
struct RefusalLimiterTests {
    @Test("after 20 refusals in a minute a host is limited until its minute is over; other hosts are not")
    func limits() {
        var limiter = RefusalLimiter()
        for second in 0..<20 {
            #expect(!limiter.isLimited("10.0.0.9", at: Int64(second) * 1000))
            limiter.record("10.0.0.9", at: Int64(second) * 1000)
        }
        #expect(limiter.isLimited("10.0.0.9", at: 20_000))
        #expect(!limiter.isLimited("10.0.0.8", at: 20_000))
        #expect(!limiter.isLimited("10.0.0.9", at: 60_001))
        #expect(RefusalLimiter.host(of: "127.0.0.1:51234") == "127.0.0.1")
        #expect(RefusalLimiter.host(of: "[::1]:5") == "[::1]")
    }
}

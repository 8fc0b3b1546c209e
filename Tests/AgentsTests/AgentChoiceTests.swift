import Agents
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

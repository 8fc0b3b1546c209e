import Runner

/// Which connected agent gets a delegated task (SPEC section 8): a pure decision over what the hub
/// knows, so every rule is a table row in a test. Exactly one agent or none; never "all that match"
/// and never the master itself.
public enum AgentChoice {
    /// What the hub knows of one connected agent when it chooses.
    public struct Candidate: Sendable, Equatable {
        public var name: String
        public var tags: [String: String]
        public var running: Int
        public init(name: String, tags: [String: String], running: Int) {
            (self.name, self.tags, self.running) = (name, tags, running)
        }
    }

    public enum Decision: Sendable, Equatable {
        /// `reason` says why this one, for the run's log.
        case chosen(String, reason: String)
        case unavailable(reason: String)
    }

    /// Names: the first listed that is connected. Tags: of the connected agents with all of them, the
    /// least busy, then by name. A busy agent still gets the task: it queues behind its own `--workers`.
    public static func pick(_ target: AgentTarget, among candidates: [Candidate]) -> Decision {
        switch target {
        case .names(let names):
            let connected = names.compactMap { name in candidates.first { $0.name == name } }
            guard !connected.isEmpty else { return .unavailable(reason: names.count == 1 ? "it is not connected" : "none is connected") }
            let free = connected[0]
            let skipped = names.prefix { $0 != free.name }
            return .chosen(free.name, reason: skipped.isEmpty ? "named" : "named; \(skipped.joined(separator: ", ")) not available")
        case .tags(let tags):
            let matching = candidates.filter { candidate in tags.allSatisfy { candidate.tags[$0.key] == $0.value } }
            guard !matching.isEmpty else { return .unavailable(reason: "no connected agent has those tags") }
            let best = matching.min { ($0.running, $0.name) < ($1.running, $1.name) }!
            return .chosen(best.name, reason: "least busy of \(matching.count) matching (\(matching.map(\.name).sorted().joined(separator: ", ")))")
        }
    }
}

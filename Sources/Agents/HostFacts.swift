import AgentWire
import Runner

/// What an agent tells the master about its host when it registers.
enum HostFacts {
    static func read() -> Slothd_Agent_V1_Facts {
        let facts = LocalFacts.read()
        return .with {
            $0.os = facts["os"] ?? ""
            $0.arch = facts["arch"] ?? ""
            $0.kernel = facts["kernel"] ?? ""
            $0.hostname = facts["hostname"] ?? ""
            $0.cpus = Int32(facts["cpus"] ?? "") ?? 0
            $0.memoryBytes = Int64(facts["memory_bytes"] ?? "") ?? 0
        }
    }
}

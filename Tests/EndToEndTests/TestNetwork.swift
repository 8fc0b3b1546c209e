import Foundation
import TestSupport

/// Two network namespaces the test creates and removes, joined by a veth pair: the master's end
/// (10.201.N.1) and the agent's (10.201.N.2). Taking the agent's link down cuts it off without killing it.
final class TestNetwork: @unchecked Sendable {
    let master: String
    let agent: String
    let masterAddress: String
    private let agentLink: String

    /// Throws, saying why, where namespaces cannot be made.
    static func make() throws -> TestNetwork {
        let id = String(UUID().uuidString.filter(\.isHexDigit).prefix(6)).lowercased()
        return try TestNetwork(id: id, subnet: Int.random(in: 1...250))
    }

    private init(id: String, subnet: Int) throws {
        (master, agent, agentLink) = ("sltm-\(id)", "slta-\(id)", "va\(id)")
        masterAddress = "10.201.\(subnet).1"
        let masterLink = "vm\(id)"
        try Self.ip(["netns", "add", master])
        try Self.ip(["netns", "add", agent])
        try Self.ip(["link", "add", masterLink, "type", "veth", "peer", "name", agentLink])
        try Self.ip(["link", "set", masterLink, "netns", master])
        try Self.ip(["link", "set", agentLink, "netns", agent])
        for (namespace, link, address) in [(master, masterLink, masterAddress), (agent, agentLink, "10.201.\(subnet).2")] {
            try Self.ip(["-n", namespace, "addr", "add", "\(address)/24", "dev", link])
            try Self.ip(["-n", namespace, "link", "set", link, "up"])
            try Self.ip(["-n", namespace, "link", "set", "lo", "up"])
        }
    }

    /// Runs a process inside `namespace` (ip execs it: the pid is the process's own).
    func inside(_ namespace: String) -> [String] { ["/usr/sbin/ip", "netns", "exec", namespace] }

    func cutAgent() throws { try Self.ip(["-n", agent, "link", "set", agentLink, "down"]) }
    func restoreAgent() throws { try Self.ip(["-n", agent, "link", "set", agentLink, "up"]) }

    deinit {
        _ = try? Self.ip(["netns", "del", agent])
        _ = try? Self.ip(["netns", "del", master])
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Spawned like every process of these tests (never Foundation's Process, which reaps children).
    private static func ip(_ arguments: [String]) throws {
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-ip-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errors) }
        let status = exitCode(of: try spawnDetached(["/usr/sbin/ip"] + arguments, environment: [], stderr: errors))
        guard status == 0 else {
            let said = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw Failure(description: "ip \(arguments.joined(separator: " ")): \(said)")
        }
    }
}

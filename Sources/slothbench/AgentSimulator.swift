import AgentWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// Many agents in one process: each holds its own `Connect` stream, registers with its own token and
/// heartbeats every 5 s like `slothd agent`, but runs nothing (the master's cost per idle agent).
struct AgentSimulator {
    let host: String
    let port: Int
    /// Streams per HTTP/2 connection.
    let streamsPerConnection: Int

    /// Holds every stream open until the task is cancelled.
    func hold(_ tokens: [(name: String, token: String)]) async throws {
        let groups = stride(from: 0, to: tokens.count, by: streamsPerConnection).map { Array(tokens[$0..<min($0 + streamsPerConnection, tokens.count)]) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agents in groups {
                group.addTask {
                    try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: host, port: port), transportSecurity: .plaintext)) { client in
                        let hub = Slothd_Agent_V1_AgentHub.Client(wrapping: client)
                        try await withThrowingTaskGroup(of: Void.self) { streams in
                            for agent in agents { streams.addTask { try await stream(hub, agent) } }
                            try await streams.waitForAll()
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    private func stream(_ hub: Slothd_Agent_V1_AgentHub.Client<HTTP2ClientTransport.Posix>, _ agent: (name: String, token: String)) async throws {
        try await hub.connect(requestProducer: { writer in
            try await writer.write(.with {
                $0.register = .with {
                    $0.name = agent.name
                    $0.token = agent.token
                    $0.tags = ["role": "sim"]
                    $0.version = "sim"
                    $0.workers = 1
                }
            })
            var sequence: UInt64 = 0
            while true {
                try await Task.sleep(for: .seconds(5))
                sequence += 1
                try await writer.write(.with { $0.heartbeat = .with { $0.sequence = sequence } })
            }
        }, onResponse: { response in
            for try await _ in response.messages {}
        })
    }
}

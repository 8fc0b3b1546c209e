import GRPCCore
import GRPCNIOTransportHTTP2

/// The master's gRPC listener for agents (`slothd --agents-listen HOST:PORT`).
public struct AgentServer: Sendable {
    public let host: String
    public let port: Int
    let hub: AgentHub
    let tls: AgentTLS

    public init(host: String, port: Int, hub: AgentHub, tls: AgentTLS) {
        (self.host, self.port, self.hub, self.tls) = (host, port, hub, tls)
    }

    /// Whether agents' tokens would cross the network in the clear (logged at every start).
    public var isInsecure: Bool { !tls.isEnabled && !Self.isLoopback(host) }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Serves until the task is cancelled; `listening` gets the bound port (useful with port 0).
    public func run(listening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let address: GRPCNIOTransportCore.SocketAddress = host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
        let server = GRPCServer(transport: .http2NIOPosix(address: address, transportSecurity: tls.server),
                                services: [AgentService(hub: hub)])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            group.addTask { [hub] in
                while true {
                    try await Task.sleep(for: .seconds(1))
                    hub.sweepSilent()
                }
            }
            let bound = try await server.listeningAddress
            if let port = bound?.ipv4?.port ?? bound?.ipv6?.port { listening(port) }
            try await withTaskCancellationHandler {
                try await Task.sleep(for: .seconds(Int64.max / 2_000_000_000))
            } onCancel: {
                server.beginGracefulShutdown()
            }
        }
    }
}

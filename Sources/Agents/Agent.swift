import AgentWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Runner
import Synchronization

/// `slothd agent` (SPEC section 8): dials out to the master and holds one stream; registers, beats
/// every five seconds, runs what it is offered and reconnects with backoff (1 s doubling to 30 s).
public final class Agent: Sendable {
    public struct Options: Sendable {
        public var name: String
        public var masterHost: String
        public var masterPort: Int
        public var token: String
        public var tags: [String: String]
        public var tls: AgentTLS
        public var workers: Int
        public var version: String
        public init(name: String, masterHost: String, masterPort: Int, token: String, tags: [String: String], tls: AgentTLS,
                    workers: Int, version: String) {
            (self.name, self.masterHost, self.masterPort, self.token, self.tags) = (name, masterHost, masterPort, token, tags)
            (self.tls, self.workers, self.version) = (tls, workers, version)
        }
    }

    static let backoffMillis: (first: Int64, max: Int64) = (1_000, 30_000)

    let options: Options
    let say: @Sendable (String) -> Void
    private let outbox = Outbox()
    private let requests: AgentRequests
    private let tasks: AgentTasks
    private let commands: AgentCommands

    /// - Parameter say: where the agent's own lines go (the journal).
    public init(options: Options, runner: WorkflowRunner, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
        let send: @Sendable (Slothd_Agent_V1_AgentMessage) -> Bool = { [outbox] in outbox.send($0) }
        let requests = AgentRequests(send: send)
        self.requests = requests
        tasks = AgentTasks(runner: runner, workers: options.workers, send: send, link: { AgentLink(lease: $0, requests: requests) })
        commands = AgentCommands(runner: runner, send: send)
    }

    /// Connects until cancelled; `connected` is called after each welcome.
    public func run(connected: @escaping @Sendable () -> Void = {}) async {
        var backoff = Self.backoffMillis.first
        while !Task.isCancelled {
            let started = LuaState.monotonicMillis()
            do {
                try await session(connected: connected)
                say("the master closed the stream")
            } catch is CancellationError {
                return
            } catch let error as RPCError where error.code == .unauthenticated {
                say("the master refused this agent: \(error.message)")
            } catch {
                say("cannot reach the master at \(options.masterHost):\(options.masterPort): \(Self.describe(error))")
            }
            outbox.current.withLock { $0 = nil }
            requests.failAll()
            if LuaState.monotonicMillis() - started > Self.backoffMillis.max { backoff = Self.backoffMillis.first }
            say("reconnecting in \(backoff / 1000) s")
            try? await Task.sleep(for: .milliseconds(backoff))
            backoff = min(backoff * 2, Self.backoffMillis.max)
        }
    }

    private func session(connected: @escaping @Sendable () -> Void) async throws {
        let target: any ResolvableTarget = IPv4Address(options.masterHost) != nil
            ? .ipv4(address: options.masterHost, port: options.masterPort) : .dns(host: options.masterHost, port: options.masterPort)
        try await withGRPCClient(transport: .http2NIOPosix(target: target, transportSecurity: options.tls.client)) { client in
            let hub = Slothd_Agent_V1_AgentHub.Client(wrapping: client)
            let (stream, continuation) = AsyncStream.makeStream(of: Slothd_Agent_V1_AgentMessage.self)
            continuation.yield(.with { $0.register = registration() })
            try await hub.connect(requestProducer: { writer in
                for await message in stream { try await writer.write(message) }
            }, onResponse: { [self] response in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { [self] in
                        for try await message in response.messages { handle(message, continuation: continuation, connected: connected) }
                    }
                    group.addTask { [self] in
                        var sequence: UInt64 = 0
                        while true {
                            try await Task.sleep(for: .milliseconds(AgentHub.heartbeatMillis))
                            sequence += 1
                            continuation.yield(.with { $0.heartbeat = .with { $0.sequence = sequence; $0.running = Int32(tasks.running) } })
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
                continuation.finish()
            })
        }
    }

    private func handle(_ message: Slothd_Agent_V1_MasterMessage, continuation: AsyncStream<Slothd_Agent_V1_AgentMessage>.Continuation,
                        connected: @Sendable () -> Void) {
        switch message.body {
        case .welcome(let welcome):
            outbox.current.withLock { $0 = continuation }
            for lease in welcome.stale {
                say("task \(lease) is no longer the master's: cancelled")
                tasks.cancel(lease, reason: "stale")
            }
            tasks.resend()
            say("connected to the master at \(options.masterHost):\(options.masterPort) as \(options.name)")
            connected()
        case .offer(let offer):
            say("task \(offer.task) of run \(offer.runID) (\(offer.workflow)) offered")
            tasks.accept(offer)
        case .cancel(let cancel):
            say("task \(cancel.lease) cancelled by the master: \(cancel.reason)")
            tasks.cancel(cancel.lease, reason: cancel.reason)
        case .secret(let reply):
            requests.answer(reply.request, message)
        case .state(let reply):
            requests.answer(reply.request, message)
        case .command(let command):
            commands.run(command)
        case nil:
            break
        }
    }

    private func registration() -> Slothd_Agent_V1_Register {
        .with {
            $0.name = options.name
            $0.token = options.token
            $0.tags = options.tags
            $0.version = options.version
            $0.facts = HostFacts.read()
            $0.held = tasks.leases
            $0.workers = Int32(options.workers)
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? RPCError).map { "\($0.code): \($0.message)" } ?? "\(error)"
    }
}

/// The stream messages go out on, once the master has welcomed this agent; none while disconnected.
private final class Outbox: Sendable {
    let current = Mutex<AsyncStream<Slothd_Agent_V1_AgentMessage>.Continuation?>(nil)

    func send(_ message: Slothd_Agent_V1_AgentMessage) -> Bool {
        current.withLock { continuation in
            guard let continuation, case .enqueued = continuation.yield(message) else { return false }
            return true
        }
    }
}

private struct IPv4Address {
    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return nil }
    }
}

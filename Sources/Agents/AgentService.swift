import AgentWire
import GRPCCore
import Synchronization

/// The `Connect` stream of one agent, on the master: the first message registers (a refused token ends
/// the stream with `unauthenticated` and the reason), then the agent's messages go to the hub while
/// the hub's go out; a connection silent for `AgentHub.silenceMillis` is closed and its tasks lost.
struct AgentService: Slothd_Agent_V1_AgentHub.SimpleServiceProtocol {
    let hub: AgentHub
    /// Messages the master keeps for an agent that has not read them; past it the agent is cut off.
    static let outboxLimit = 4_096

    private struct Registered: Sendable {
        let id: UInt64
        let name: String
    }

    enum Ended: Error {
        case closed
        case silent
        case replaced
        /// Its outbox filled: it asks without reading the answers.
        case unread
    }

    func connect(request: RPCAsyncSequence<Slothd_Agent_V1_AgentMessage, any Error>,
                 response: RPCWriter<Slothd_Agent_V1_MasterMessage>, context: ServerContext) async throws {
        let (outbox, continuation) = AsyncStream.makeStream(of: Slothd_Agent_V1_MasterMessage.self, bufferingPolicy: .bufferingOldest(Self.outboxLimit))
        var iterator = request.makeAsyncIterator()
        guard let first = try await iterator.next(), case .register(let register)? = first.body else {
            throw RPCError(code: .invalidArgument, message: "the first message of a stream must be register")
        }
        let id: UInt64
        do {
            id = try hub.connect(register, address: Self.address(context.remotePeer), outbox: continuation)
        } catch {
            throw RPCError(code: .unauthenticated, message: error.description)
        }
        let agent = Registered(id: id, name: register.name)
        var reason = "closed its stream"
        do {
            // The agent's messages go to the hub on one child task; the stream's own task writes the hub's
            // out until the outbox ends: ended by the hub (the stream is replaced, silent or unread), or by
            // the reader when the agent's side ended. One task fewer per agent than a writer of its own.
            let reader = Reader(iterator)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { continuation.finish() }
                    do {
                        while let message = try await reader.iterator.next() { hub.receive(message, from: agent.name) }
                        reader.end(Ended.closed)
                    } catch {
                        reader.end(error)
                    }
                }
                for await message in outbox { try await response.write(message) }
                throw reader.ended ?? hub.ending(agent.id, name: agent.name)
            }
        } catch Ended.silent {
            reason = "was silent for \(AgentHub.silenceMillis / 1000) s"
            hub.heartbeatFailed(agent.name)
        } catch Ended.unread {
            reason = "did not read its stream (\(Self.outboxLimit) messages waiting)"
        } catch Ended.replaced {
            reason = "was replaced by a new connection"
        } catch is Ended {
        } catch {
            reason = "lost its stream (\(error))"
        }
        continuation.finish()
        hub.disconnect(agent.id, name: agent.name, reason: reason)
    }

    /// The stream's iterator, handed to the one child task that reads it after registration, and how
    /// the reading ended.
    private final class Reader: @unchecked Sendable {
        var iterator: RPCAsyncSequence<Slothd_Agent_V1_AgentMessage, any Error>.AsyncIterator
        private let ending = Mutex<(any Error)?>(nil)
        init(_ iterator: RPCAsyncSequence<Slothd_Agent_V1_AgentMessage, any Error>.AsyncIterator) { self.iterator = iterator }

        func end(_ error: any Error) { ending.withLock { $0 = error } }
        var ended: (any Error)? { ending.withLock { $0 } }
    }

    /// `ipv4:127.0.0.1:51234` → `127.0.0.1:51234`.
    static func address(_ peer: String) -> String {
        for prefix in ["ipv4:", "ipv6:", "unix:"] where peer.hasPrefix(prefix) { return String(peer.dropFirst(prefix.count)) }
        return peer
    }
}

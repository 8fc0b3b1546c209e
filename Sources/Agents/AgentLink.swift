import AgentWire
import Foundation
import Runner
import Synchronization

/// A delegated task's `secrets.get` and `state.*`, asked of the master over the agent's stream. The
/// task's thread waits for the reply (it is the task's own thread, never a Swift task's), at most
/// `timeoutSeconds`; a stream that drops fails the call, it never hangs the task.
final class AgentRequests: Sendable {
    static let timeoutSeconds = 30.0

    private struct Waiting {
        let done: DispatchSemaphore
        var reply: Slothd_Agent_V1_MasterMessage?
    }

    private let waiting = Mutex<[UInt64: Waiting]>([:])
    private let next = Atomic<UInt64>(1)
    private let send: @Sendable (Slothd_Agent_V1_AgentMessage) -> Bool

    init(send: @escaping @Sendable (Slothd_Agent_V1_AgentMessage) -> Bool) { self.send = send }

    /// Sends the request `make(id)` and waits for the reply with that id.
    func ask(_ make: (UInt64) -> Slothd_Agent_V1_AgentMessage) throws(LuaHostError) -> Slothd_Agent_V1_MasterMessage {
        let id = next.add(1, ordering: .relaxed).newValue
        let done = DispatchSemaphore(value: 0)
        waiting.withLock { $0[id] = Waiting(done: done) }
        defer { waiting.withLock { _ = $0.removeValue(forKey: id) } }
        guard send(make(id)) else { throw LuaHostError("the master is not connected") }
        guard done.wait(timeout: .now() + Self.timeoutSeconds) == .success,
              let reply = waiting.withLock({ $0[id]?.reply }) else {
            throw LuaHostError("the master did not answer within \(Int(Self.timeoutSeconds)) s")
        }
        return reply
    }

    /// A reply from the master: wakes the task waiting for it.
    func answer(_ id: UInt64, _ reply: Slothd_Agent_V1_MasterMessage) {
        let done = waiting.withLock { waiting -> DispatchSemaphore? in
            guard waiting[id] != nil else { return nil }
            waiting[id]?.reply = reply
            return waiting[id]?.done
        }
        done?.signal()
    }

    /// The stream is gone: every waiting call fails now instead of at its timeout.
    func failAll() {
        for waiter in waiting.withLock({ Array($0.values) }) { waiter.done.signal() }
    }
}

/// The master as one task on this agent sees it.
struct AgentLink: MasterLink {
    let lease: String
    let requests: AgentRequests

    func secret(_ name: String) throws(LuaHostError) -> String? {
        let reply = try requests.ask { id in .with { $0.secret = .with { $0.request = id; $0.lease = lease; $0.name = name } } }
        guard case .secret(let secret)? = reply.body else { throw LuaHostError("the master answered something else") }
        if !secret.error.isEmpty { throw LuaHostError(secret.error) }
        return secret.found ? secret.value : nil
    }

    func state(_ function: String, arguments: [LuaValue]) throws(LuaHostError) -> [LuaValue] {
        let reply = try requests.ask { id in
            .with { $0.state = .with { $0.request = id; $0.lease = lease; $0.op = function; $0.argumentsJson = StateRequests.encode(arguments) } }
        }
        guard case .state(let state)? = reply.body else { throw LuaHostError("the master answered something else") }
        if !state.error.isEmpty { throw LuaHostError(state.error) }
        return StateRequests.decode(state.resultJson)
    }
}

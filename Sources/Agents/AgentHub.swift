import AgentWire
import Catalog
import Foundation
import Runner
import Scheduler
import Synchronization

/// The master's side of its agents (SPEC section 8): who is connected, and which task attempts are
/// leased to whom. A lease ends exactly once — by its result, its cancel, or its agent's loss — and a
/// result carrying another fence than the lease's is dropped.
public final class AgentHub: TaskDelegator, Sendable {
    public static let heartbeatMillis: Int64 = 5_000
    /// An agent silent this long is disconnected and its tasks are lost.
    public static let silenceMillis: Int64 = 15_000

    struct Connection {
        let id: UInt64
        let name: String
        let address: String
        let tags: [String: String]
        let facts: [String: String]
        let version: String
        let outbox: AsyncStream<Slothd_Agent_V1_MasterMessage>.Continuation
        var lastSeen: Int64
        /// Found silent by the sweep: its outbox is finished, and its stream ends as silent.
        var silent = false

        /// Queues a message for the agent. An agent that stops reading its stream fills its outbox
        /// (`AgentService.outboxLimit`) and is cut off, rather than the master holding all it is owed.
        @discardableResult
        func deliver(_ message: Slothd_Agent_V1_MasterMessage) -> Bool {
            if case .dropped = outbox.yield(message) {
                outbox.finish()
                return false
            }
            return true
        }
    }

    struct Lease {
        /// What is stored of it until it ends, so a restarted master can still record its result.
        let row: AgentLeaseStore.Lease
        let log: @Sendable ([DelegatedLogLine]) -> Void
        let mask: @Sendable (String) -> Void
        let finish: @Sendable (DelegationResult) -> Void
        var secrets: [String]
        var acknowledged = false
        /// When the offer went out (monotonic ms): a result's round trip is measured from here.
        let offeredAt: Int64
        /// Left by a previous master: its run has ended, and its result is recorded on the run's rows.
        var adopted = false
        var agent: String { row.agent }
        var fence: Int64 { row.fence }
    }

    struct State {
        var connections: [String: Connection] = [:]
        var leases: [String: Lease] = [:]
        var nextConnection: UInt64 = 1
        var nextFence: Int64
        /// slothd is stopping: a task cut now is left running on its agent for the next start to record.
        var detached = false
    }

    let store: AgentStore
    let leaseStore: AgentLeaseStore
    let database: CatalogDatabase
    let keyring: SecretKeyring
    let counters = AgentCounters()
    private let refusals = Mutex(RefusalLimiter())
    /// `agent run` commands waiting for their agent, by id.
    let commands = Mutex<[String: PendingCommand]>([:])
    let now: @Sendable () -> Int64
    private let state: Mutex<State>

    /// - Parameter now: monotonic milliseconds (leases and silence are measured on it).
    public init(database: CatalogDatabase, keyring: SecretKeyring, now: @escaping @Sendable () -> Int64 = LuaState.monotonicMillis) {
        self.database = database
        self.store = AgentStore(database: database)
        self.leaseStore = AgentLeaseStore(database: database)
        self.keyring = keyring
        self.now = now
        // Fences grow across restarts of the master: a result from before one never matches after it.
        state = Mutex(State(nextFence: database.now() * 1_000))
    }

    /// Connected agents as the chooser sees them.
    public func candidates() -> [AgentChoice.Candidate] {
        state.withLock { state in
            state.connections.values.map { connection in
                AgentChoice.Candidate(name: connection.name, tags: connection.tags,
                                      running: state.leases.values.filter { $0.agent == connection.name }.count)
            }
        }
    }

    /// What `agent list` adds to the stored rows: running tasks and the last message's age.
    public func live(_ name: String) -> (running: Int, lastSeenMillisAgo: Int64)? {
        state.withLock { state in
            state.connections[name].map { connection in
                (state.leases.values.filter { $0.agent == name }.count, now() - connection.lastSeen)
            }
        }
    }

    public var connectedCount: Int { state.withLock { $0.connections.count } }

    /// The agents' series of `/metrics`.
    public func metricsText() -> [UInt8] { Array(counters.text(connected: connectedCount).utf8) }

    public func start(_ task: DelegatedTask, log: @escaping @Sendable ([DelegatedLogLine]) -> Void, mask: @escaping @Sendable (String) -> Void,
                      finish: @escaping @Sendable (DelegationResult) -> Void) -> @Sendable () -> Void {
        let decision = AgentChoice.pick(task.target, among: candidates())
        guard case .chosen(let agent, let reason) = decision else {
            if case .unavailable(let why) = decision { finish(.unavailable(task.target, why)) }
            counters.unavailable.add(1, ordering: .relaxed)
            return {}
        }
        let fence = state.withLock { state in
            state.nextFence += 1
            return state.nextFence
        }
        let row = AgentLeaseStore.Lease(lease: "\(task.runID)/\(task.task)/\(fence)", runID: task.runID, task: task.task, agent: agent,
                                        fence: fence, stack: task.stack, offeredAt: database.now())
        do { try leaseStore.open(row) } catch {
            finish(DelegationResult(success: false, error: "the master cannot record the task's lease: \(error)"))
            return {}
        }
        let offered = state.withLock { state in
            guard let connection = state.connections[agent] else { return false }
            guard connection.deliver(.with { $0.offer = Self.offer(task, lease: row.lease, fence: fence) }) else { return false }
            state.leases[row.lease] = Lease(row: row, log: log, mask: mask, finish: finish, secrets: task.masked, offeredAt: now())
            return true
        }
        guard offered else {
            try? leaseStore.close(row.lease)
            finish(.unavailable(task.target, "\(agent) disconnected while it was chosen"))
            return {}
        }
        counters.delegated.add(1, ordering: .relaxed)
        log([DelegatedLogLine(level: "info", stream: nil, message: "delegated to agent \(agent) (\(reason))", fieldsJSON: nil)])
        return { [weak self] in self?.end(row.lease, DelegationResult(success: false, error: "cancelled", agent: agent), notify: "cancelled") }
    }

    /// slothd is stopping: tasks its runs give up from now on keep running on their agents (no cancel
    /// is sent, their leases stay stored) and the next start records their results.
    public func detach() {
        state.withLock { $0.detached = true }
    }

    /// Ends a lease once: `notify` (a reason) also tells its agent to stop the task — unless slothd is
    /// stopping, when the task is left to the agent and its stored lease to the next start.
    func end(_ lease: String, _ result: DelegationResult, notify reason: String? = nil, fence: Int64? = nil) {
        let (ended, leftToAgent): (Lease?, Bool) = state.withLock { state in
            guard let held = state.leases[lease], fence == nil || held.fence == fence else { return (nil, false) }
            state.leases[lease] = nil
            if reason != nil, state.detached { return (held, true) }
            if let reason, let connection = state.connections[held.agent] {
                connection.deliver(.with { $0.cancel = .with { $0.lease = lease; $0.reason = reason } })
            }
            return (held, false)
        }
        guard let ended else { return }
        if !ended.adopted && !leftToAgent { try? leaseStore.close(lease) }
        if fence != nil { counters.recordRoundTrip(millis: now() - ended.offeredAt, success: result.success) }
        var result = result
        result.agent = ended.agent
        ended.finish(result)
    }

    static func offer(_ task: DelegatedTask, lease: String, fence: Int64) -> Slothd_Agent_V1_TaskOffer {
        .with {
            $0.lease = lease
            $0.fence = fence
            $0.runID = task.runID
            $0.workflow = task.workflow
            $0.task = task.task
            $0.file = task.file
            $0.source = task.source
            $0.params = task.params
            $0.valuesJson = task.valuesJSON
            $0.stack = task.stack ?? ""
            $0.depsJson = task.depsJSON
            $0.timeoutMs = task.timeoutMillis ?? 0
            $0.masked = task.masked
        }
    }

    // MARK: connections

    /// A registered stream: the agent's token checked, its row written, the tasks it reports it still
    /// holds kept or (when the master no longer has them) named stale for it to cancel.
    func connect(_ register: Slothd_Agent_V1_Register, address: String,
                 outbox: AsyncStream<Slothd_Agent_V1_MasterMessage>.Continuation) throws(AgentRefusal) -> UInt64 {
        guard PlainName.isValid(register.name) else { throw .invalidName(register.name) }
        let host = RefusalLimiter.host(of: address)
        let arrived = now()
        guard !refusals.withLock({ $0.isLimited(host, at: arrived) }) else { throw .tooMany }
        let check: AgentStore.TokenCheck
        do { check = try store.authenticate(name: register.name, token: register.token, address: address) } catch { throw .storage("\(error)") }
        guard case .accepted(let token) = check else {
            refusals.withLock { $0.record(host, at: arrived) }
            throw .token(AgentStore.reason(check))
        }
        let facts = Self.facts(register)
        do {
            try store.connected(.init(name: register.name, address: address, tags: register.tags, facts: facts, version: register.version,
                                      tokenID: token.id))
        } catch { throw .storage("\(error)") }
        let held = Set(register.held.map(\.lease))
        let (id, replaced, lost, stale) = state.withLock { state in
            let id = state.nextConnection
            state.nextConnection += 1
            let replaced = state.connections[register.name]
            state.connections[register.name] = Connection(id: id, name: register.name, address: address, tags: register.tags, facts: facts,
                                                          version: register.version, outbox: outbox, lastSeen: now())
            let lost = state.leases.filter { $0.value.agent == register.name && !held.contains($0.key) }.map(\.key)
            let stale = held.filter { state.leases[$0]?.agent != register.name }
            return (id, replaced, lost, stale)
        }
        replaced?.outbox.finish()
        for lease in lost { end(lease, DelegationResult(success: false, error: "agent_lost: agent \(register.name) reconnected without the task")) }
        outbox.yield(.with {
            $0.welcome = .with { $0.heartbeatMs = Int32(Self.heartbeatMillis); $0.stale = stale.sorted() }
        })
        return id
    }

    /// The stream ended (`reason`): the agent's leases are lost and follow their retries.
    func disconnect(_ id: UInt64, name: String, reason: String) {
        let (current, lastSeen, held): (Bool, Int64, [String]) = state.withLock { state in
            guard let connection = state.connections[name], connection.id == id else { return (false, 0, []) }
            state.connections[name] = nil
            return (true, connection.lastSeen, state.leases.filter { $0.value.agent == name }.map(\.key))
        }
        guard current else { return }
        endCommands(of: name, error: "agent \(name) \(reason)")
        for lease in held {
            counters.lost.add(1, ordering: .relaxed)
            end(lease, DelegationResult(success: false, error: "agent_lost: agent \(name) \(reason)"))
        }
        try? store.disconnected(name, lastSeenAt: database.now() - (now() - lastSeen), reason: reason)
    }

    /// Ends the streams of agents silent for `silenceMillis` (one sweep for all, every second, rather
    /// than a timer per stream): their outboxes are finished, which ends each stream's writer.
    func sweepSilent() {
        state.withLock { state in
            let at = now()
            for (name, connection) in state.connections where !connection.silent && at - connection.lastSeen >= Self.silenceMillis {
                state.connections[name]?.silent = true
                connection.outbox.finish()
            }
        }
    }

    /// Why a connection's outbox was finished: it was replaced (or is gone), found silent, or filled up.
    func ending(_ id: UInt64, name: String) -> AgentService.Ended {
        state.withLock { state in
            guard let connection = state.connections[name], connection.id == id else { return .replaced }
            return connection.silent ? .silent : .unread
        }
    }

    static func facts(_ register: Slothd_Agent_V1_Register) -> [String: String] {
        let facts = register.facts
        return ["os": facts.os, "arch": facts.arch, "cpus": String(facts.cpus), "memory_bytes": String(facts.memoryBytes),
                "hostname": facts.hostname, "kernel": facts.kernel, "workers": String(register.workers)]
    }

    func heartbeatFailed(_ name: String) {
        try? store.heartbeatFailed(name, silentMillis: Self.silenceMillis)
    }

    func touch(_ name: String) {
        state.withLock { state in state.connections[name]?.lastSeen = now() }
    }

    func lease(_ id: String, of agent: String) -> Lease? {
        state.withLock { state in state.leases[id].flatMap { $0.agent == agent ? $0 : nil } }
    }

    func insert(_ adopted: [Lease]) {
        state.withLock { state in
            for lease in adopted { state.leases[lease.row.lease] = lease }
        }
    }

    func acknowledge(_ lease: String, of agent: String) {
        state.withLock { state in
            if state.leases[lease]?.agent == agent { state.leases[lease]?.acknowledged = true }
        }
    }

    func addSecret(_ value: String, to lease: String) {
        state.withLock { state in state.leases[lease]?.secrets.append(value) }
    }

    func send(_ message: Slothd_Agent_V1_MasterMessage, to name: String) {
        state.withLock { state in _ = state.connections[name]?.deliver(message) }
    }
}

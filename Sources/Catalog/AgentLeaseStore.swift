import GRDB

/// Delegated attempts in flight (SPEC section 8), one row each from the offer until its result or its
/// loss is recorded, so a master that restarts while its agents work records each of their results
/// once: the row goes in the transaction that writes the task's row, and only when the fence matches.
public struct AgentLeaseStore: Sendable {
    public struct Lease: Sendable, Equatable {
        public var lease: String
        public var runID: Int64
        public var task: String
        public var agent: String
        public var fence: Int64
        public var stack: String?
        /// Milliseconds since 1970.
        public var offeredAt: Int64
        public init(lease: String, runID: Int64, task: String, agent: String, fence: Int64, stack: String?, offeredAt: Int64) {
            (self.lease, self.runID, self.task, self.agent, self.fence, self.stack, self.offeredAt) =
                (lease, runID, task, agent, fence, stack, offeredAt)
        }
    }

    /// How an attempt that outlived its master's run ended, as its agent (or its loss) says.
    public struct Outcome: Sendable, Equatable {
        public var success: Bool
        public var error: String?
        public var outputJSON: String?
        public var exitCode: Int?
        public init(success: Bool, error: String?, outputJSON: String?, exitCode: Int?) {
            (self.success, self.error, self.outputJSON, self.exitCode) = (success, error, outputJSON, exitCode)
        }
    }

    let database: CatalogDatabase

    public init(database: CatalogDatabase) { self.database = database }

    public func open(_ lease: Lease) throws(AgentStore.Error) {
        try AgentStore.Error.guarding {
            try database.write { db in
                try db.execute(cached: """
                    INSERT OR REPLACE INTO agent_leases(lease, run_id, task, agent, fence, stack, offered_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, [lease.lease, lease.runID, lease.task, lease.agent, lease.fence, lease.stack, lease.offeredAt])
            }
        }
    }

    /// The attempt ended while its run was still the master's: the run records it with the others.
    public func close(_ lease: String) throws(AgentStore.Error) {
        try AgentStore.Error.guarding {
            try database.write { db in try db.execute(cached: "DELETE FROM agent_leases WHERE lease = ?", [lease]) }
        }
    }

    /// Every attempt a previous master left with its agents.
    public func all() throws(AgentStore.Error) -> [Lease] {
        try AgentStore.Error.guarding {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM agent_leases ORDER BY run_id, lease").map {
                    Lease(lease: $0["lease"], runID: $0["run_id"], task: $0["task"], agent: $0["agent"], fence: $0["fence"],
                          stack: $0["stack"], offeredAt: $0["offered_at"])
                }
            }
        }
    }

    /// Records on its run the result of an attempt the run itself could no longer wait for (its master
    /// restarted): the task's row and a log line, and the lease row removed — once. False when the row
    /// is gone or holds another fence (the result is then dropped).
    @discardableResult
    public func settle(_ lease: Lease, _ outcome: Outcome) throws(AgentStore.Error) -> Bool {
        try AgentStore.Error.guarding {
            try database.write { db in
                try db.execute(cached: "DELETE FROM agent_leases WHERE lease = ? AND fence = ?", [lease.lease, lease.fence])
                guard db.changesCount > 0 else { return false }
                let now = database.now()
                let status: TaskStatus = outcome.success ? .success : .failed
                try db.execute(cached: """
                    INSERT OR REPLACE INTO run_tasks(run_id, name, status, attempts, duration_ms, error, output_json,
                                                     started_at, ended_at, exit_code, agent)
                    VALUES (?1, ?2, ?3, coalesce((SELECT attempts FROM run_tasks WHERE run_id = ?1 AND name = ?2), 1), ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                    """, [lease.runID, lease.task, status, now - lease.offeredAt, outcome.error, outcome.outputJSON, lease.offeredAt, now,
                          outcome.exitCode, lease.agent])
                let said = outcome.success ? "succeeded" : "failed: \(outcome.error ?? "no reason given")"
                try RunStore.insert(db, logs: [RunStore.LogLine(
                    at: now, level: outcome.success ? "info" : "warn", task: lease.task,
                    message: "agent \(lease.agent) reported the task after slothd restarted: \(said) (recorded once; the run had ended)",
                    fieldsJSON: nil)], run: lease.runID)
                return true
            }
        }
    }

    /// Every stored lease settled as lost (`reason`); how many were.
    public func loseAll(_ reason: String) throws(AgentStore.Error) -> Int {
        var lost = 0
        for lease in try all() where try settle(lease, Outcome(success: false, error: reason, outputJSON: nil, exitCode: nil)) { lost += 1 }
        return lost
    }
}

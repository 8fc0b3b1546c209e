import Catalog
import Foundation
import Synchronization

/// Runs one workflow file in a fresh Lua state: load, pick the workflow, record the run, execute the
/// task DAG, and wait until every process it started is gone.
public final class WorkflowRunner: Sendable {
    /// What one run may hold: its Lua state's memory and its stored log.
    public struct Limits: Sendable {
        public var memoryBytes: Int
        public var logBytes: Int
        public init(memoryBytes: Int = LuaState.defaultMemoryLimit, logBytes: Int = RunLog.defaultCapBytes) {
            (self.memoryBytes, self.logBytes) = (memoryBytes, logBytes)
        }
    }

    let database: CatalogDatabase
    let limits: Limits
    let echo: (@Sendable (String) -> Void)?
    let shown: RunLog.Echo
    /// Where secrets.get finds the key; the daemon's control API seals with the same one.
    public let keyring: SecretKeyring
    /// `sloth.workflow` and `sloth.stack` capture only the database: boxed once, shared by every run.
    let catalogModules: RunSession.CatalogModules
    /// Where delegated tasks go: the master's agent hub; nil where no agents are accepted.
    public let delegator: TaskDelegator?

    public init(database: CatalogDatabase, echo: (@Sendable (String) -> Void)?, shown: RunLog.Echo = RunLog.Echo(),
                limits: Limits = Limits(), environment: [String: String] = ProcessInfo.processInfo.environment,
                delegator: TaskDelegator? = nil) {
        self.database = database
        self.delegator = delegator
        self.limits = limits
        self.echo = echo
        self.shown = shown
        keyring = SecretKeyring(stateDirectory: (database.path as NSString).deletingLastPathComponent, environment: environment)
        catalogModules = RunSession.CatalogModules(workflow: LuaState.SharedTable(SlothModule.workflowFunctions(database), name: "sloth.workflow"),
                                                   stack: LuaState.SharedTable(SlothModule.stackFunctions(database), name: "sloth.stack"),
                                                   agent: LuaState.SharedTable(AgentModule.agentFunctions(database), name: "sloth.agent"),
                                                   facts: LuaState.SharedTable(AgentModule.factFunctions(), name: "facts"))
    }

    /// How long processes of a finished or cancelled run get to exit after SIGTERM before the run ends anyway.
    public static let teardownGraceSeconds = 10.0

    /// The run goes on a thread of its own (never a Swift cooperative thread); the caller awaits its end.
    public func run(_ request: RunRequest, cancellation: RunCancellation = RunCancellation()) async throws(RunnerError) -> RunReport {
        try await LuaThread.run { () throws(RunnerError) in try self.runOnCurrentThread(request, cancellation: cancellation) }
    }

    /// A run queued by the daemon becomes running; a local run gets its row now.
    private func startRecord(_ request: RunRequest, plan: RunSession.Plan, runs: RunStore) throws(RunnerError) -> Int64 {
        do {
            if let queued = request.queuedRunID {
                guard try runs.markStarted(queued, declaredVersion: plan.version) else { throw RunnerError.storage("run \(queued) is no longer queued") }
                return queued
            }
            return try runs.start(.init(workflow: plan.workflow, workflowVersion: nil, declaredVersion: plan.version, trigger: request.trigger,
                                        stack: request.stack, file: request.file))
        } catch let error as RunnerError {
            throw error
        } catch {
            throw .storage("cannot record the run: \(error)")
        }
    }

    /// Runs on the calling thread, which blocks until the run ends: never call it from a Swift task.
    public func runOnCurrentThread(_ request: RunRequest, cancellation: RunCancellation = RunCancellation()) throws(RunnerError) -> RunReport {
        let log = RunLog(echo: echo, shown: shown)
        log.capBytes = limits.logBytes
        let session = try RunSession(request: request, database: database, keyring: keyring, modules: catalogModules,
                                     log: log, memoryLimit: limits.memoryBytes, delegator: delegator)
        let interrupter = session.lua.interrupter, operations = session.operations
        cancellation.attach {
            interrupter.cancel()
            operations.interrupt()
        }
        let runs = RunStore(database: database)
        // A queued run's id is known before its file's top level runs, so what that code records (events,
        // secret reads) already names the run.
        session.runID = request.queuedRunID
        if let queued = request.queuedRunID { session.processes.attach(runID: queued) }
        let plan: RunSession.Plan
        do {
            plan = try session.plan()
        } catch {
            // The file's top level ran while planning: it may have read a secret.
            let masked = session.log.redactor.redact(error)
            if let queued = request.queuedRunID {
                let stopped = cancellation.reason
                _ = try? runs.end(queued, .init(state: stopped?.state ?? .failed, error: stopped?.message ?? masked.description))
            }
            throw masked
        }
        session.workflowName = plan.workflow
        let runID = try startRecord(request, plan: plan, runs: runs)
        session.runID = runID
        session.processes.attach(runID: runID)
        // Batches are stored on a queue of their own, in order, so neither a job's thread (reading what
        // its command prints) nor the run's waits on SQLite; the run's last lines follow them.
        let logWriter = request.logsStored.map { stored in
            let queue = DispatchQueue(label: "slothd run log")
            session.log.sink = { lines in
                queue.async {
                    try? runs.appendLogs(run: runID, lines)
                    stored()
                }
            }
            return queue
        }
        var report = session.log.redactor.redact(session.execute(runID: runID, workflow: plan.workflow, params: request.params,
                                                                          cancellation: cancellation))
        report.stack = request.stack
        if let reason = cancellation.reason, !report.succeeded {
            report.stopped = reason
            if reason != .user { report.error = reason.message }
        }
        session.operations.cancelAll(graceSeconds: Self.teardownGraceSeconds)
        logWriter?.sync {}
        let document = RunDocument(report)
        do {
            try runs.end(runID, .init(state: report.state,
                            error: report.error,
                            tasks: report.tasks.map {
                                RunStore.TaskResult(name: $0.name, status: $0.status, attempts: $0.attempts,
                                                    durationMillis: $0.durationMillis,
                                                    error: $0.error ?? ($0.status == .success ? nil : $0.message),
                                                    outputJSON: document.outputJSON[$0.name], startedAt: $0.startedAt,
                                                    endedAt: $0.endedAt, exitCode: $0.exitCode, agent: $0.agent)
                            },
                            resultJSON: document.json,
                            outputsJSON: request.stack == nil ? nil : document.outputsJSON,
                            countsInStack: request.stack != nil && request.trigger != .hook,
                            logs: session.log.close()))
        } catch {
            throw .storage("cannot record the run's result: \(error)")
        }
        return report
    }
}

extension RunReport {
    /// From the table the Lua executor returns.
    init(runID: Int64, lua result: LuaValue, chunkName: ChunkName) {
        self.init(runID: runID, workflow: result["workflow"].string ?? "", version: result["version"].string,
                  succeeded: result["status"].string == "success", durationMillis: result["duration_ms"].int ?? 0,
                  error: result["error"].string.map(chunkName.expand).map(Self.naming),
                  tasks: (result["tasks"].table?.array ?? []).map { Task(lua: $0, chunkName: chunkName) })
    }

    /// Lua says "not enough memory" when the run's allocator refuses: say which limit that is.
    static func naming(_ error: String) -> String {
        error.hasSuffix("not enough memory") ? error.dropLast("not enough memory".count) + "memory limit exceeded (run_memory_limit)" : error
    }
}

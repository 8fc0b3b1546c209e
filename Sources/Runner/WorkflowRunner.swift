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

    private let database: CatalogDatabase
    private let limits: Limits
    private let echo: (@Sendable (String) -> Void)?
    private let shown: RunLog.Echo
    /// Where secrets.get finds the key; the daemon's control API seals with the same one.
    public let keyring: SecretKeyring
    /// `sloth.workflow` and `sloth.stack` capture only the database: boxed once, shared by every run.
    private let catalogModules: RunSession.CatalogModules

    public init(database: CatalogDatabase, echo: (@Sendable (String) -> Void)?, shown: RunLog.Echo = RunLog.Echo(),
                limits: Limits = Limits(), environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.database = database
        self.limits = limits
        self.echo = echo
        self.shown = shown
        keyring = SecretKeyring(stateDirectory: (database.path as NSString).deletingLastPathComponent, environment: environment)
        catalogModules = RunSession.CatalogModules(workflow: LuaState.SharedTable(SlothModule.workflowFunctions(database), name: "sloth.workflow"),
                                                   stack: LuaState.SharedTable(SlothModule.stackFunctions(database), name: "sloth.stack"))
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
                                     log: log, memoryLimit: limits.memoryBytes)
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
                                                    endedAt: $0.endedAt, exitCode: $0.exitCode)
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

/// One run's Lua state and the host objects its modules talk to.
final class RunSession {
    let lua: LuaState
    let operations = RunOperations()
    /// The process groups of the run's jobs, recorded with the run.
    let processes: ProcessLedger
    let log: RunLog
    let request: RunRequest
    let chunkName: ChunkName
    let taskBoard = TaskBoard()
    var runID: Int64?

    struct Plan {
        var workflow: String
        var version: String?
        /// The tasks that run, in plan order.
        var tasks: [String]
        /// Every workflow the file defines.
        var workflows: [String]
    }

    struct CatalogModules {
        let workflow: LuaState.SharedTable
        let stack: LuaState.SharedTable
    }

    /// - Parameter sandboxed: for `WorkflowCheck`: the file's commands and HTTP requests are not run.
    init(request: RunRequest, database: CatalogDatabase, keyring: SecretKeyring, modules: CatalogModules, log: RunLog,
         memoryLimit: Int, sandboxed: Bool = false, cacheDirectory: String? = nil) throws(RunnerError) {
        self.request = request
        self.log = log
        let chunkName = ChunkName(path: request.file)
        self.chunkName = chunkName
        do {
            lua = try LuaState(memoryLimit: memoryLimit)
        } catch {
            throw .invalidFile("cannot start Lua: \(error)")
        }
        let cwd = FileManager.default.currentDirectoryPath
        let owner = "\(Self.processTag):\(Self.sessionCounter.add(1, ordering: .relaxed).newValue)"
        processes = ProcessLedger(runs: RunStore(database: database))
        lua.register(table: "__sloth", RuntimeHost.functions(lua: lua, operations: operations, processes: processes, log: log, cwd: cwd,
                                                             lockOwner: owner, chunkName: chunkName, tasks: taskBoard,
                                                             sandboxed: sandboxed))
        lua.register(table: "data", Self.data)
        lua.register(table: "crypto", Self.crypto)
        lua.register(table: "fs", Self.files)
        lua.register(table: "file", Self.files)
        lua.register(table: "state", StateModule.functions(StateStore(database: database, scope: request.stack ?? ""), redactor: log.redactor))
        lua.register(table: "secrets", SecretsModule.functions(SecretStore(database: database, keyring: keyring), stack: request.stack, session: self))
        lua.register(table: "event", EventModule.functions(EventStore(database: database), session: self))
        lua.register(table: "__sloth_workflow", modules.workflow)
        lua.register(table: "__sloth_stack", modules.stack)
        let values = try Self.values(request, database: database)
        do {
            try lua.setGlobal("values", values)
            try lua.setGlobal("stack", LuaTable.record(request.stack.map { ["name": .string($0)] } ?? [:]))
            if let hookEvent = request.hookEvent { try lua.setGlobal("__sloth_hook_event", hookEvent) }
            try RuntimeSources.install(in: lua, cacheDirectory: cacheDirectory ?? Self.cacheDirectory(of: database))
            try lua.load(request.source, chunkName: request.file, asGlobal: "__sloth_chunk")
        } catch {
            throw .invalidFile(chunkName.expand("\(error)"))
        }
    }

    /// SPEC section 4: the stack's values, overridden by the values file, overridden by `--param`.
    private static func values(_ request: RunRequest, database: CatalogDatabase) throws(RunnerError) -> LuaValue {
        var merged = LuaTable()
        if let stack = request.stack {
            do {
                let stacks = StackStore(database: database)
                try stacks.require(stack)
                for (key, json) in try stacks.values(stack) { merged.fields[key] = (try? LuaJSON.decode(json)) ?? .nil_ }
            } catch .unknown {
                throw .unknownStack(stack)
            } catch {
                throw .storage("cannot read stack \(stack): \(error)")
            }
        }
        let file = request.values.table ?? LuaTable()
        merged.array = file.array
        merged.fields.merge(file.fields) { $1 }
        merged.fields.merge(request.params.mapValues(LuaValue.string)) { $1 }
        return .table(merged)
    }

    /// Where the runtime's compiled bytecode is kept, beside the database.
    static func cacheDirectory(of database: CatalogDatabase) -> String {
        (database.path as NSString).deletingLastPathComponent + "/cache"
    }

    /// Lock owners: unique per process (a pid alone is reused) and per session within it.
    private static let processTag = "\(getpid()):\(UUID().uuidString)"
    private static let sessionCounter = Atomic<Int>(0)
    private static let data = LuaState.SharedTable(DataModule.functions(), name: "data")
    private static let crypto = LuaState.SharedTable(CryptoModule.functions(), name: "crypto")
    private static let files = LuaState.SharedTable(FileModule.functions(), name: "fs")

    func plan() throws(RunnerError) -> Plan {
        let names: [String]
        do {
            let stem = ((request.file as NSString).lastPathComponent as NSString).deletingPathExtension
            names = (try lua.callRuntime("load", [.string(stem)]).first?.table?.array ?? []).compactMap(\.string)
            let plan = try lua.callRuntime("plan", [
                request.workflow.map(LuaValue.string) ?? .nil_, .table(LuaTable(array: request.tasks.map(LuaValue.string))),
            ]).first ?? .nil_
            switch plan["kind"].string {
            case "unknown_workflow": throw RunnerError.unknownWorkflow(request.workflow ?? "", available: names)
            case "no_workflow": throw RunnerError.noWorkflow(file: request.file)
            case "ambiguous": throw RunnerError.ambiguousWorkflow(file: request.file, names: names)
            case "invalid":
                let place = plan["line"].int.map { "\(request.file):\($0)" } ?? request.file
                throw RunnerError.invalidWorkflow("\(place): \(chunkName.expand(plan["error"].string ?? "invalid workflow"))")
            default:
                return Plan(workflow: plan["workflow"].string ?? "", version: plan["version"].string,
                            tasks: (plan["tasks"].table?.array ?? []).compactMap(\.string), workflows: names)
            }
        } catch let error as RunnerError {
            throw error
        } catch LuaError.cancelled {
            throw .cancelledBeforeStart
        } catch {
            throw .invalidFile(chunkName.expand("\(error)"))
        }
    }

    func execute(runID: Int64, workflow: String, params: [String: String], cancellation: RunCancellation) -> RunReport {
        let started = LuaState.monotonicMillis()
        do {
            let delegate: LuaValue = request.delegateTo.isEmpty ? .nil_ : .table(LuaTable(array: request.delegateTo.map(LuaValue.string)))
            let result = try lua.callRuntime("execute", [.table(LuaTable(fields: params.mapValues(LuaValue.string))), delegate])
            return RunReport(runID: runID, lua: result.first ?? .nil_, chunkName: chunkName)
        } catch {
            let message = chunkName.expand("\(error)")
            log.write(level: .error, task: nil, message: message, fields: nil)
            let tasks = taskBoard.stopped(reason: cancellation.reason?.message ?? message, at: Int64(Date().timeIntervalSince1970 * 1000),
                                          chunkName: chunkName)
            return RunReport(runID: runID, workflow: workflow, version: nil, succeeded: false,
                             stopped: error == .cancelled ? .user : nil, durationMillis: LuaState.monotonicMillis() - started,
                             error: message, tasks: tasks)
        }
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

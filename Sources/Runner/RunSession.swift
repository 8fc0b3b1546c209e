import Catalog
import Foundation
import Synchronization

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
    /// The workflow being run, once planned (a delegated task names it to its agent).
    var workflowName = ""
    /// The run's `values`, as JSON, for its delegated tasks.
    private(set) var valuesJSON = "{}"

    struct Plan {
        var workflow: String
        var version: String?
        /// The tasks that run, in plan order.
        var tasks: [String]
        /// Every workflow the file defines.
        var workflows: [String]
        /// Each task's `depends_on`.
        var needs: [String: [String]] = [:]
    }

    struct CatalogModules {
        let workflow: LuaState.SharedTable
        let stack: LuaState.SharedTable
        let agent: LuaState.SharedTable
        let facts: LuaState.SharedTable
    }

    /// - Parameter sandboxed: for `WorkflowCheck`: the file's commands and HTTP requests are not run.
    /// - Parameter link: on an agent, the master: secrets and state go there instead of the catalog.
    init(request: RunRequest, database: CatalogDatabase, keyring: SecretKeyring, modules: CatalogModules, log: RunLog,
         memoryLimit: Int, sandboxed: Bool = false, cacheDirectory: String? = nil, delegator: TaskDelegator? = nil,
         link: MasterLink? = nil) throws(RunnerError) {
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
        if let link {
            lua.register(table: "state", link.stateFunctions(names: StateModule.names))
            lua.register(table: "secrets", SecretsModule.functions(link.secretSource(stack: request.stack), stack: request.stack, session: self))
        } else {
            lua.register(table: "state", StateModule.functions(StateStore(database: database, scope: request.stack ?? ""), redactor: log.redactor))
            lua.register(table: "secrets", SecretsModule.functions(SecretsModule.catalog(SecretStore(database: database, keyring: keyring),
                                                                                         stack: request.stack, session: self),
                                                                   stack: request.stack, session: self))
        }
        lua.register(table: "__sloth", ["delegate_start": { [unowned self] args in
            [.integer(operations.start { finish in DelegationOperation.start(spec: args.at(0), session: self, delegator: delegator, finish: finish) })]
        }])
        lua.register(table: "event", EventModule.functions(EventStore(database: database), session: self))
        lua.register(table: "__sloth_workflow", modules.workflow)
        lua.register(table: "__sloth_stack", modules.stack)
        lua.register(table: "__sloth_agent", modules.agent)
        lua.register(table: "__sloth_facts", modules.facts)
        // An agent is given the values the master merged; its own catalog knows no stack.
        let values = link == nil ? try Self.values(request, database: database) : request.values
        valuesJSON = LuaJSON.encode(values)
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
                let tasks = (plan["tasks"].table?.array ?? []).compactMap(\.string)
                let needs = (plan["needs"].table?.array ?? []).map { ($0.string ?? "").split(separator: "\n").map(String.init) }
                return Plan(workflow: plan["workflow"].string ?? "", version: plan["version"].string, tasks: tasks, workflows: names,
                            needs: Dictionary(zip(tasks, needs)) { first, _ in first })
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

import Catalog
import Foundation

/// Checks a workflow file before the catalog stores it or a run of it is queued: the same load and plan
/// as `sloth run -f` (unknown builder methods, unknown dependencies, cycles, a workflow without tasks,
/// several workflows, unknown `--task` names), in a sandboxed state that runs no task.
///
/// The file's top level has to run to define its workflows. In the sandbox it gets a throwaway database
/// (state, secrets, events and `sloth.workflow` calls touch nothing real), empty `values`, commands and
/// HTTP requests that fail at once without running, and a deadline.
public enum WorkflowCheck {
    public struct Checked: Sendable, Equatable {
        /// The workflow the file provides: the one named, or its only one.
        public var workflow: String
        /// Every workflow the file defines.
        public var workflows: [String]
        /// The tasks that would run, in plan order.
        public var tasks: [String]
        /// Each task's `depends_on` (the edges of the run's DAG on the dashboard).
        public var needs: [String: [String]]
        public init(workflow: String, workflows: [String], tasks: [String], needs: [String: [String]] = [:]) {
            (self.workflow, self.workflows, self.tasks, self.needs) = (workflow, workflows, tasks, needs)
        }

        /// What the catalog stores as the entry: the workflow's name when the file defines several.
        public var entry: String? { workflows.count > 1 ? workflow : nil }
    }

    /// Top-level code that takes longer than this is refused: it would hold up every run too.
    public static let defaultDeadlineSeconds = 10.0

    /// - Parameters:
    ///   - workflow: the workflow to plan when the file defines several (nil: the file must define one).
    ///   - storedEntry: with no `workflow`, the entry the catalog kept for an earlier version, used while
    ///     the file still defines it.
    ///   - tasks: `--task` names to select; each must exist.
    ///   - cacheDirectory: where the runtime's compiled bytecode is kept (the state directory's `cache`).
    public static func check(_ source: String, file: String, workflow: String? = nil, storedEntry: String? = nil, tasks: [String] = [],
                             cacheDirectory: String? = nil, deadlineSeconds: Double = defaultDeadlineSeconds) throws(RunnerError) -> Checked {
        if workflow == nil, let storedEntry {
            do {
                return try check(source, file: file, workflow: storedEntry, tasks: tasks, cacheDirectory: cacheDirectory,
                                 deadlineSeconds: deadlineSeconds)
            } catch .unknownWorkflow {
                // The new version no longer defines it: the file must now name its workflow on its own.
            }
        }
        let sandbox = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-check-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        let database: CatalogDatabase
        do {
            database = try CatalogDatabase(path: sandbox + "/check.db")
        } catch {
            throw .storage("cannot check the workflow file: \(error)")
        }
        let modules = RunSession.CatalogModules(workflow: LuaState.SharedTable(SlothModule.workflowFunctions(database, sandboxed: true), name: "sloth.workflow"),
                                                stack: LuaState.SharedTable(SlothModule.stackFunctions(database), name: "sloth.stack"),
                                                   agent: LuaState.SharedTable(AgentModule.agentFunctions(database), name: "sloth.agent"),
                                                   facts: LuaState.SharedTable(AgentModule.factFunctions(), name: "facts"))
        let request = RunRequest(file: file, source: source, workflow: workflow, tasks: tasks)
        let session = try RunSession(request: request, database: database, keyring: SecretKeyring(stateDirectory: sandbox, environment: [:]),
                                     modules: modules, log: RunLog(echo: nil), memoryLimit: LuaState.defaultMemoryLimit,
                                     sandboxed: true, cacheDirectory: cacheDirectory)
        let (interrupter, operations) = (session.lua.interrupter, session.operations)
        let timer = DispatchWorkItem {
            interrupter.cancel()
            operations.interrupt()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + deadlineSeconds, execute: timer)
        defer { timer.cancel() }
        do {
            let plan = try session.plan()
            return Checked(workflow: plan.workflow, workflows: plan.workflows, tasks: plan.tasks, needs: plan.needs)
        } catch .cancelledBeforeStart {
            throw .invalidFile("\(file): its top-level code ran longer than \(String(format: "%g", deadlineSeconds)) s while slothd checked it "
                + "(top-level code must not wait; do the work in a task)")
        }
    }

    /// The same on a thread of its own, for callers on Swift's cooperative threads (the control routes).
    public static func check(_ source: String, file: String, workflow: String? = nil, storedEntry: String? = nil, tasks: [String] = [],
                             cacheDirectory: String? = nil) async throws(RunnerError) -> Checked {
        try await LuaThread.run { () throws(RunnerError) in
            try check(source, file: file, workflow: workflow, storedEntry: storedEntry, tasks: tasks, cacheDirectory: cacheDirectory)
        }
    }

    /// The state directory's bytecode cache for a database, to pass as `cacheDirectory`.
    public static func cacheDirectory(of database: CatalogDatabase) -> String { RunSession.cacheDirectory(of: database) }

    /// The Lua syntax error in `source` (`file:line: message`), or nil when it compiles (hook scripts).
    public static func syntaxError(in source: String, file: String) -> String? {
        do {
            try LuaState(memoryLimit: 64 << 20).load(source, chunkName: file, asGlobal: "__check")
            return nil
        } catch {
            return ChunkName(path: file).expand("\(error)")
        }
    }
}

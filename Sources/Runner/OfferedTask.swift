import Foundation

/// A task offered to this host as an agent: the workflow file, the one task, and what the master
/// knows of its run (SPEC section 8).
public struct OfferedTask: Sendable, Equatable {
    public var file: String
    public var source: String
    public var workflow: String
    public var task: String
    public var params: [String: String]
    public var valuesJSON: String
    public var stack: String?
    public var depsJSON: String
    /// Secret values the run read on the master: masked here as well.
    public var masked: [String]

    public init(file: String, source: String, workflow: String, task: String, params: [String: String], valuesJSON: String,
                stack: String?, depsJSON: String, masked: [String]) {
        (self.file, self.source, self.workflow, self.task, self.params) = (file, source, workflow, task, params)
        (self.valuesJSON, self.stack, self.depsJSON, self.masked) = (valuesJSON, stack, depsJSON, masked)
    }
}

extension WorkflowRunner {
    /// Runs one offered task here, on the calling thread (never a Swift task's): a fresh Lua state loads
    /// the file and only that task runs, once, with its dependencies' outputs as given. Nothing is
    /// recorded in this host's catalog but the process groups of its jobs; log lines go to `lines` as
    /// they are written, masked.
    public func runOffered(_ offer: OfferedTask, link: MasterLink, lines: @escaping @Sendable ([DelegatedLogLine]) -> Void,
                           cancellation: RunCancellation = RunCancellation()) -> DelegationResult {
        let log = RunLog(echo: echo, shown: shown)
        log.capBytes = limits.logBytes
        for secret in offer.masked { log.redactor.add(secret) }
        log.sink = { batch in lines(batch.map { DelegatedLogLine(level: $0.level, stream: $0.stream, message: $0.message, fieldsJSON: $0.fieldsJSON) }) }
        var request = RunRequest(file: offer.file, source: offer.source, workflow: offer.workflow, tasks: [offer.task], params: offer.params,
                                 values: (try? LuaJSON.decode(offer.valuesJSON)) ?? .table(LuaTable()), stack: offer.stack)
        request.trigger = .manual
        let result: DelegationResult
        do {
            let session = try RunSession(request: request, database: database, keyring: keyring, modules: catalogModules, log: log,
                                         memoryLimit: limits.memoryBytes, link: link)
            let interrupter = session.lua.interrupter, operations = session.operations
            cancellation.attach {
                interrupter.cancel()
                operations.interrupt()
            }
            result = Self.execute(offer, session: session, cancellation: cancellation)
            session.operations.cancelAll(graceSeconds: Self.teardownGraceSeconds)
        } catch {
            result = DelegationResult(success: false, error: log.redactor.redact("\(error)"))
        }
        lines(log.close().map { DelegatedLogLine(level: $0.level, stream: $0.stream, message: $0.message, fieldsJSON: $0.fieldsJSON) })
        return result
    }

    private static func execute(_ offer: OfferedTask, session: RunSession, cancellation: RunCancellation) -> DelegationResult {
        do {
            _ = try session.plan()
            let deps = (try? LuaJSON.decode(offer.depsJSON)) ?? .table(LuaTable())
            let record = try session.lua.callRuntime("execute_task", [
                .string(offer.task), .table(LuaTable(fields: offer.params.mapValues(LuaValue.string))), deps,
            ]).first ?? .nil_
            let task = RunReport.Task(lua: session.log.redactor.redact(record), chunkName: session.chunkName)
            let output = task.output == .nil_ ? nil : LuaJSON.encode(task.output)
            if task.status == .success { return DelegationResult(success: true, outputJSON: output, exitCode: task.exitCode) }
            let reason = cancellation.reason.map { $0.message }
            return DelegationResult(success: false, error: reason ?? task.error ?? task.message ?? task.status.rawValue, outputJSON: output,
                                    exitCode: task.exitCode)
        } catch {
            return DelegationResult(success: false, error: session.log.redactor.redact("\(error)"))
        }
    }
}

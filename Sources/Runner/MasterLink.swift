import Catalog

/// On an agent, the master, reached over the agent's stream: a delegated task's `secrets.get` and
/// `state.*` are answered there, so nothing secret is ever kept on the agent.
public protocol MasterLink: Sendable {
    /// The secret's value as the master resolves it for the task's stack; nil when there is none.
    func secret(_ name: String) throws(LuaHostError) -> String?
    /// One `state` function, called on the master with these arguments: its results.
    func state(_ function: String, arguments: [LuaValue]) throws(LuaHostError) -> [LuaValue]
}

extension MasterLink {
    func secretSource(stack: String?) -> SecretsModule.Source {
        { name throws(SecretStore.Error) in
            let value: String?
            do throws(LuaHostError) { value = try self.secret(name) } catch { throw .storage("the master did not answer: \(error.message)") }
            guard let value else { throw .unknown(name: name, stack: stack) }
            return value
        }
    }

    func stateFunctions(names: [String]) -> [String: LuaState.HostFunction] {
        Dictionary(uniqueKeysWithValues: names.map { name in
            (name, { args throws(LuaHostError) in try self.state(name, arguments: args) } as LuaState.HostFunction)
        })
    }
}

/// `__sloth.delegate_start(spec)`: one attempt of a task on an agent, an operation the run's scheduler
/// waits on like a command; cancelling it (timeout, cancel) cancels the task on its agent. `spec.source`
/// replaces the workflow's source (`facts.*({agent = ...})` sends a one-task workflow of its own).
enum DelegationOperation {
    static func start(spec: LuaValue, session: RunSession, delegator: TaskDelegator?,
                      finish: @escaping @Sendable (LuaValue) -> Void) -> (@Sendable () -> Void)? {
        guard let target = AgentTarget(lua: spec["target"]) else {
            finish(table(DelegationResult(success: false, error: "delegate_to expects an agent name, a list of names or {tags = {...}}")))
            return nil
        }
        guard let delegator else {
            finish(table(.unavailable(target, "only a slothd started with --agents-listen has agents")))
            return nil
        }
        let name = spec["task"].string ?? ""
        let task = DelegatedTask(
            runID: session.runID ?? 0, workflow: session.workflowName, task: name, file: session.request.file,
            source: spec["source"].string ?? session.request.source, target: target,
            params: (spec["params"].table?.fields ?? [:]).compactMapValues { $0.string ?? $0.int.map { String($0) } },
            valuesJSON: session.valuesJSON, stack: session.request.stack, depsJSON: LuaJSON.encode(spec["deps"]),
            timeoutMillis: spec["timeout_ms"].int, masked: session.log.redactor.values)
        let log = session.log
        return delegator.start(task, log: { lines in log.write(delegated: lines, task: name) }, mask: { log.redactor.add($0) },
                               finish: { finish(table($0)) })
    }

    static func table(_ result: DelegationResult) -> LuaValue {
        var fields: [String: LuaValue] = ["success": .boolean(result.success)]
        if let error = result.error { fields["error"] = .string(error) }
        if let agent = result.agent { fields["agent"] = .string(agent) }
        if let code = result.exitCode { fields["exit_code"] = .integer(Int64(code)) }
        if let json = result.outputJSON, let output = try? LuaJSON.decode(json) { fields["output"] = output }
        return .table(LuaTable(fields: fields))
    }
}

/// The master's side of an agent's `state.*` call: the same functions, on the catalog, for the task's
/// stack; values holding a secret the run has read are refused as they are on the master.
public enum StateRequests {
    public static func answer(_ function: String, arguments: [LuaValue], database: CatalogDatabase, stack: String?,
                              masked: [String]) -> Result<[LuaValue], LuaHostError> {
        let redactor = Redactor()
        for secret in masked { redactor.add(secret) }
        guard StateModule.names.contains(function),
              let body = StateModule.functions(StateStore(database: database, scope: stack ?? ""), redactor: redactor)[function]
        else { return .failure(LuaHostError("state: no function \(function)")) }
        do { return .success(try body(arguments)) } catch { return .failure(error) }
    }

    /// Values as they cross the wire: a JSON array (nil as null).
    public static func encode(_ values: [LuaValue]) -> String {
        "[" + values.map { $0 == .nil_ ? "null" : LuaJSON.encode($0) }.joined(separator: ",") + "]"
    }

    public static func decode(_ json: String) -> [LuaValue] {
        guard let table = (try? LuaJSON.decode(json))?.table else { return [] }
        return table.array
    }
}

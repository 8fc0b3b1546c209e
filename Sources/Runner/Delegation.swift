/// Which agents a task may run on (SPEC section 8): by name (the first eligible of a list) or by tags.
public enum AgentTarget: Sendable, Equatable, CustomStringConvertible {
    case names([String])
    case tags([String: String])

    /// From `delegate_to`'s argument: a name, a list of names, or `{tags = {k = v}}`.
    public init?(lua value: LuaValue) {
        switch value {
        case .string(let name): self = .names([name])
        case .table(let table):
            if let tags = table.fields["tags"]?.table {
                self = .tags(tags.fields.compactMapValues { $0.string ?? $0.int.map { String($0) } })
            } else {
                let names = table.array.compactMap(\.string)
                guard !names.isEmpty else { return nil }
                self = .names(names)
            }
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .names(let names) where names.count == 1: "agent \"\(names[0])\""
        case .names(let names): "agents " + names.map { "\"\($0)\"" }.joined(separator: ", ")
        case .tags(let tags): "agents tagged " + tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
    }
}

/// One attempt of a task, handed to an agent.
public struct DelegatedTask: Sendable, Equatable {
    public var runID: Int64
    public var workflow: String
    public var task: String
    public var file: String
    public var source: String
    public var target: AgentTarget
    public var params: [String: String]
    public var valuesJSON: String
    public var stack: String?
    /// The outputs of the task's dependencies, by task name, as JSON.
    public var depsJSON: String
    public var timeoutMillis: Int64?
    /// Secret values the run has read: the agent masks them too.
    public var masked: [String]
}

/// How a delegated attempt ended.
public struct DelegationResult: Sendable, Equatable {
    public var success: Bool
    public var error: String?
    public var outputJSON: String?
    public var exitCode: Int?
    /// The agent chosen (nil when none was eligible).
    public var agent: String?

    public init(success: Bool, error: String? = nil, outputJSON: String? = nil, exitCode: Int? = nil, agent: String? = nil) {
        (self.success, self.error, self.outputJSON, self.exitCode, self.agent) = (success, error, outputJSON, exitCode, agent)
    }

    public static func unavailable(_ target: AgentTarget, _ why: String) -> DelegationResult {
        DelegationResult(success: false, error: "agent_unavailable: no eligible agent for \(target) (\(why))")
    }
}

/// A line an agent's task logged, for the run's log on the master.
public struct DelegatedLogLine: Sendable, Equatable {
    public var level: String
    /// `stdout`/`stderr` for what a job printed.
    public var stream: String?
    public var message: String
    public var fieldsJSON: String?
    public init(level: String, stream: String?, message: String, fieldsJSON: String?) {
        (self.level, self.stream, self.message, self.fieldsJSON) = (level, stream, message, fieldsJSON)
    }
}

/// Hands delegated tasks to agents: the master's agent hub. `start` calls `finish` exactly once, from
/// any thread; the canceller it returns stops the task on its agent (its process group killed there).
/// `mask` is given each secret the agent reads, so the run masks it in what it keeps too.
public protocol TaskDelegator: Sendable {
    func start(_ task: DelegatedTask, log: @escaping @Sendable ([DelegatedLogLine]) -> Void, mask: @escaping @Sendable (String) -> Void,
               finish: @escaping @Sendable (DelegationResult) -> Void) -> @Sendable () -> Void
}

import Catalog
import Synchronization

/// Stops a run from any thread: Lua code stops at its next instruction-count check, waiting stops,
/// and every process group the run started is terminated. The first reason given is the one the run
/// ends with, so its row, its event and its result document agree.
public final class RunCancellation: Sendable {
    public enum Reason: Sendable, Equatable {
        /// `sloth runs cancel`, or Ctrl-C of `sloth run -f`.
        case user
        /// A newer fire of the schedule (overlap: cancel-other).
        case replaced
        /// The schedule's `--timeout`.
        case timeout(seconds: Int64)
        /// slothd is stopping.
        case shutdown

        /// The run's final state (SPEC section 4).
        public var state: RunState {
            switch self {
            case .user, .replaced: .cancelled
            case .timeout: .timedOut
            case .shutdown: .interrupted
            }
        }

        public var message: String {
            switch self {
            case .user: "run cancelled"
            case .replaced: "replaced by a newer fire (overlap: cancel-other)"
            case .timeout(let seconds): "timed out after \(seconds) s (the schedule's --timeout)"
            case .shutdown: "slothd stopped while the run was running"
            }
        }
    }

    private let target = Mutex<(@Sendable () -> Void)?>(nil)
    private let requested = Mutex<Reason?>(nil)

    public init() {}

    public func cancel(_ reason: Reason = .user) {
        let first = requested.withLock { current in
            if current == nil { current = reason }
            return current == reason
        }
        if first { target.withLock { $0 }?() }
    }

    public var reason: Reason? { requested.withLock { $0 } }

    var isRequested: Bool { reason != nil }

    /// Called once the run's state exists; cancels at once if cancel() came first.
    func attach(_ stop: @escaping @Sendable () -> Void) {
        target.withLock { $0 = stop }
        if isRequested { stop() }
    }
}

/// What a workflow file asked for and how to run it.
public struct RunRequest: Sendable {
    public var file: String
    public var source: String
    public var workflow: String?
    public var tasks: [String]
    public var params: [String: String]
    public var values: LuaValue
    public var trigger: RunTrigger
    /// The stack whose values, state and secrets the run uses; nil for none.
    public var stack: String?
    /// The daemon's run row, created when the run was queued.
    public var queuedRunID: Int64?
    /// For a hook's run: the event (`type`, `timestamp`, `data`, `stack`, `run_id`), merged into the
    /// global `event` table.
    public var hookEvent: LuaValue?
    /// When set, log lines are stored as they are written (so `sloth runs logs --follow` sees them), not
    /// at the end, and this is called after each batch.
    public var logsStored: (@Sendable () -> Void)?
    /// `--delegate-to`: the agents for every task without its own `delegate_to` (empty: none).
    public var delegateTo: [String] = []

    public init(file: String, source: String, workflow: String? = nil, tasks: [String] = [], params: [String: String] = [:],
                values: LuaValue = .table(LuaTable()), trigger: RunTrigger = .cli, stack: String? = nil) {
        (self.file, self.source, self.workflow, self.tasks, self.params, self.values, self.trigger, self.stack) =
            (file, source, workflow, tasks, params, values, trigger, stack)
    }
}

/// The outcome of one run.
public struct RunReport: Sendable, Equatable {
    public struct Task: Sendable, Equatable {
        public var name: String
        public var status: TaskStatus
        public var durationMillis: Int64
        public var attempts: Int
        public var message: String?
        public var error: String?
        public var output: LuaValue
        public var artifacts: [String] = []
        /// Milliseconds since 1970; nil for a task that never started.
        public var startedAt: Int64? = nil
        public var endedAt: Int64? = nil
        public var exitCode: Int? = nil
        /// The agent a delegated task ran on.
        public var agent: String? = nil
    }

    public var runID: Int64
    public var workflow: String
    public var version: String?
    public var succeeded: Bool
    /// Why the run was stopped before its end, if it was.
    public var stopped: RunCancellation.Reason?
    public var durationMillis: Int64
    public var error: String?
    public var tasks: [Task]
    public var stack: String? = nil

    public func task(_ name: String) -> Task? { tasks.first { $0.name == name } }

    /// The run's final state as the run history records it.
    public var state: RunState { stopped?.state ?? (succeeded ? .succeeded : .failed) }
}

/// Why a workflow could not start: all of these are bad input (exit 2), except storage.
public enum RunnerError: Error, Equatable, CustomStringConvertible {
    case invalidFile(String)
    case noWorkflow(file: String)
    case ambiguousWorkflow(file: String, names: [String])
    case unknownWorkflow(String, available: [String])
    case invalidWorkflow(String)
    case unknownStack(String)
    case cancelledBeforeStart
    case storage(String)

    public var description: String {
        switch self {
        case .invalidFile(let message): message
        case .noWorkflow(let file): "\(file) defines no workflow and no task"
        case .ambiguousWorkflow(let file, let names):
            "\(file) defines \(names.count) workflows; name one of: \(names.joined(separator: ", "))"
        case .unknownWorkflow(let name, let available):
            "no workflow \"\(name)\"; the file defines: \(available.joined(separator: ", "))"
        case .invalidWorkflow(let message): message
        case .unknownStack(let name): "no stack named \"\(name)\" (sloth stack new \(name))"
        case .cancelledBeforeStart: "run cancelled before it started"
        case .storage(let message): message
        }
    }
}

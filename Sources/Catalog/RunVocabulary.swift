import GRDB

/// What a run is (SPEC section 4), spelled once: the run rows store these raw values, and every store,
/// event, report and answer uses the cases.
public enum RunState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case queued, running, succeeded, failed
    case timedOut = "timed_out"
    case cancelled, skipped, interrupted

    /// No longer queued or running.
    public var isFinished: Bool { self != .queued && self != .running }

    /// The spellings, for messages that list them.
    public static let names = allCases.map(\.rawValue)
}

/// Why a run was started.
public enum RunTrigger: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// `sloth run NAME` or the API.
    case manual
    /// A schedule's fire, or `scheduler trigger`.
    case schedule
    /// A fire missed while slothd was down, run when it came back.
    case catchup
    /// `sloth run -f`, in the CLI's own process.
    case cli
    /// A hook's script, run for an event.
    case hook
}

/// How one task of a run ended (the `status` of `sloth run -o json` and `runs show -o json`).
public enum TaskStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case success, failed, skipped
    case timedOut = "timed_out"
    case cancelled
}

/// How one hook's execution for one event ended (`sloth hook history`).
public enum HookOutcome: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case success, failed
}

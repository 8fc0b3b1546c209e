/// What to do with a fire while a run of the same schedule is still queued or running.
public enum OverlapPolicy: String, CaseIterable, Sendable, Codable {
    /// The fire is recorded as a `skipped` run (the default).
    case skip
    /// One fire waits for the runs in flight; later ones are skipped while it waits.
    case bufferOne = "buffer-one"
    /// Fires wait in order, up to `FirePlanner.maxBuffered`; past that they are skipped.
    case bufferAll = "buffer-all"
    /// The runs in flight are cancelled and the fire starts.
    case cancelOther = "cancel-other"
    /// The fire starts regardless.
    case allowAll = "allow-all"
}

/// What to do with fires missed while slothd was down (or the clock jumped forward).
public enum CatchupPolicy: String, CaseIterable, Sendable, Codable {
    /// Missed fires are counted, never run.
    case skip
    /// One run, for the most recent miss within the window (the default).
    case latest
    /// A run for each miss within the window, oldest first, at most `FirePlanner.maxCatchupRuns`.
    case all
}

/// Why a run started.
public enum FireTrigger: String, Sendable, Codable {
    case schedule, catchup, manual
}

/// Everything the planner needs to know of one schedule.
public struct ScheduleRules: Sendable, Hashable {
    public var name: String
    public var schedule: CronSchedule
    public var zone: ZoneRules
    public var overlap: OverlapPolicy
    public var catchup: CatchupPolicy
    public var catchupWindowSeconds: Int64
    public var jitterSeconds: Int64
    public var enabled: Bool

    public static let defaultCatchupWindowSeconds: Int64 = 24 * 3600

    public init(name: String, schedule: CronSchedule, zone: ZoneRules, overlap: OverlapPolicy = .skip,
                catchup: CatchupPolicy = .latest, catchupWindowSeconds: Int64 = Self.defaultCatchupWindowSeconds,
                jitterSeconds: Int64 = 0, enabled: Bool = true) {
        (self.name, self.schedule, self.zone, self.overlap, self.catchup) = (name, schedule, zone, overlap, catchup)
        (self.catchupWindowSeconds, self.jitterSeconds, self.enabled) = (catchupWindowSeconds, jitterSeconds, enabled)
    }
}

/// Runs of one schedule that the planner must not overlap: queued or running in the pool, and fires
/// buffered behind them.
public struct InFlight: Sendable, Equatable {
    public var running: Int
    public var buffered: Int
    public init(running: Int = 0, buffered: Int = 0) {
        (self.running, self.buffered) = (running, buffered)
    }
    public static let none = InFlight()
}

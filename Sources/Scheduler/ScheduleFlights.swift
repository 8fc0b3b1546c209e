/// The runs each schedule has in flight and the fires buffered behind them, kept by the book so that
/// every overlap decision is pure: the service records fires and reports run ends, and carries out the
/// commands it gets back (the way Temporal's scheduler keeps its buffer inside the pure function).
///
/// Only schedules with something in flight have an entry: 100,000 idle schedules cost nothing here.
public struct ScheduleFlights: Sendable, Equatable {
    /// A recorded fire that has not ended: its run id and what started it.
    public struct Fire: Sendable, Equatable {
        public var runID: Int64
        /// Seconds since 1970; nil for a manual trigger.
        public var nominal: Int64?
        public var trigger: FireTrigger
        public init(runID: Int64, nominal: Int64?, trigger: FireTrigger) {
            (self.runID, self.nominal, self.trigger) = (runID, nominal, trigger)
        }
    }

    /// Why a recorded run is closed before it ever started.
    public enum CloseReason: Sendable, Equatable {
        /// A newer fire of a cancel-other schedule took its place.
        case replaced
        /// Its schedule was removed while it waited.
        case scheduleRemoved
    }

    /// What the service must do: effects, in order.
    public enum Command: Sendable, Equatable {
        /// Hand the run to the worker pool.
        case start(Fire, schedule: String)
        /// Cancel a run in flight (a newer cancel-other fire replaces it); its end is reported as any other.
        case cancel(runID: Int64, schedule: String)
        /// Close a buffered run that never started.
        case close(runID: Int64, schedule: String, reason: CloseReason)
    }

    private struct Runs: Sendable, Equatable {
        var inFlight: Set<Int64> = []
        var buffered: [Fire] = []
        var isEmpty: Bool { inFlight.isEmpty && buffered.isEmpty }
    }

    private var schedules: [String: Runs] = [:]

    public init() {}

    /// What the planner must not overlap.
    public func inFlight(_ schedule: String) -> InFlight {
        let runs = schedules[schedule]
        return InFlight(running: runs?.inFlight.count ?? 0, buffered: runs?.buffered.count ?? 0)
    }

    /// Every run id in flight or buffered for a schedule.
    public func runs(of schedule: String) -> (inFlight: Set<Int64>, buffered: [Int64]) {
        let runs = schedules[schedule]
        return (runs?.inFlight ?? [], runs?.buffered.map(\.runID) ?? [])
    }

    /// A fire the service recorded as run `fire.runID`, with the planner's action for it.
    public mutating func recorded(_ fire: Fire, schedule: String, action: FireAction) -> [Command] {
        switch action {
        case .start:
            schedules[schedule, default: Runs()].inFlight.insert(fire.runID)
            return [.start(fire, schedule: schedule)]
        case .buffer:
            schedules[schedule, default: Runs()].buffered.append(fire)
            return []
        case .cancelOthersAndStart:
            var runs = schedules[schedule] ?? Runs()
            let commands = runs.inFlight.sorted().map { Command.cancel(runID: $0, schedule: schedule) }
                + runs.buffered.map { Command.close(runID: $0.runID, schedule: schedule, reason: .replaced) }
            runs.buffered = []
            runs.inFlight.insert(fire.runID)
            schedules[schedule] = runs
            return commands + [.start(fire, schedule: schedule)]
        case .skip:
            return []
        }
    }

    /// A run ended (or never got to start): once nothing of its schedule is in flight, the oldest buffered
    /// fire starts. A buffered run that ends (cancelled by hand) just leaves the buffer.
    public mutating func ended(_ runID: Int64, schedule: String) -> [Command] {
        guard var runs = schedules[schedule] else { return [] }
        runs.inFlight.remove(runID)
        runs.buffered.removeAll { $0.runID == runID }
        var commands: [Command] = []
        if runs.inFlight.isEmpty, !runs.buffered.isEmpty {
            let next = runs.buffered.removeFirst()
            runs.inFlight.insert(next.runID)
            commands.append(.start(next, schedule: schedule))
        }
        schedules[schedule] = runs.isEmpty ? nil : runs
        return commands
    }

    /// The schedule is gone: its buffered fires close; runs in flight go on and report their end.
    public mutating func removed(_ schedule: String) -> [Command] {
        guard var runs = schedules[schedule] else { return [] }
        let commands = runs.buffered.map { Command.close(runID: $0.runID, schedule: schedule, reason: .scheduleRemoved) }
        runs.buffered = []
        schedules[schedule] = runs.isEmpty ? nil : runs
        return commands
    }
}

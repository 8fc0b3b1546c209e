/// What happens to one fire.
public enum FireAction: Sendable, Equatable {
    /// Dispatch it now.
    case start
    /// Hold it until the runs in flight end.
    case buffer
    /// Cancel the runs in flight, then dispatch it.
    case cancelOthersAndStart
    /// Record it as a `skipped` run, for this reason.
    case skip(String)
}

public struct PlannedFire: Sendable, Equatable {
    /// Seconds since 1970: the fire time the schedule asked for (the run's identity with the schedule).
    public var nominal: Int64
    public var trigger: FireTrigger
    public var action: FireAction
    public init(nominal: Int64, trigger: FireTrigger, action: FireAction) {
        (self.nominal, self.trigger, self.action) = (nominal, trigger, action)
    }
}

/// The decisions for one schedule at one instant.
public struct SchedulePlan: Sendable, Equatable {
    public var fires: [PlannedFire] = []
    /// Fires that did not run at their time (downtime, a forward clock jump, an overloaded loop).
    public var missed = 0
    /// The last nominal time processed; fires at or before it are never considered again.
    public var cursor: Int64
    /// Milliseconds since 1970 when the schedule next needs the planner; nil if it never fires again.
    public var wakeMillis: Int64?
}

/// The scheduling decisions of SPEC section 6 as pure functions of the schedule, its cursor, the runs in
/// flight and the time: what to fire (and how), what was missed, and when to look again.
public enum FirePlanner {
    /// A fire this late (from its jittered start) still runs as a normal fire; older ones are misses.
    public static let onTimeToleranceMillis: Int64 = 60_000
    public static let maxCatchupRuns = 100
    public static let maxBuffered = 100
    /// Misses older than the catch-up window are counted up to this many per call, then skipped over.
    public static let maxCountedMisses = 100_000

    /// - Parameters:
    ///   - cursor: the last nominal time (seconds) already processed.
    ///   - paused: the whole scheduler is paused.
    public static func plan(_ rules: ScheduleRules, cursor: Int64, nowMillis: Int64, inFlight: InFlight,
                            paused: Bool = false) -> SchedulePlan {
        guard rules.enabled, !paused else { return SchedulePlan(cursor: cursor, wakeMillis: nil) }
        let due = dueFires(rules, after: cursor, nowMillis: nowMillis)
        var plan = SchedulePlan(cursor: due.processedThrough)
        var onTime: Int64?
        var misses = due.recent
        if let latest = misses.last, nowMillis - startMillis(rules, nominal: latest) <= onTimeToleranceMillis {
            onTime = misses.removeLast()
        }
        plan.missed = due.olderThanWindow + due.inWindow - (onTime == nil ? 0 : 1)
        let windowStart = nowMillis / 1000 - rules.catchupWindowSeconds
        let catchable = misses.filter { $0 >= windowStart }
        let catchups: ArraySlice<Int64> = switch rules.catchup {
        case .skip: []
        case .latest: catchable.suffix(1)
        case .all: catchable.suffix(maxCatchupRuns)
        }
        var state = inFlight
        let catchupAction: (inout InFlight) -> FireAction = rules.catchup == .all ? { queueInTurn(rules.overlap, &$0) } : { decide(rules.overlap, &$0) }
        plan.fires = catchups.map { PlannedFire(nominal: $0, trigger: .catchup, action: catchupAction(&state)) }
        if let onTime {
            // Behind catch-ups of `all`, the on-time fire waits its turn too (cancel-other must not drop them).
            let inTurn = rules.catchup == .all && !catchups.isEmpty && rules.overlap == .cancelOther
            plan.fires.append(PlannedFire(nominal: onTime, trigger: .schedule,
                                          action: inTurn ? queueInTurn(rules.overlap, &state) : decide(rules.overlap, &state)))
        }
        plan.wakeMillis = rules.schedule.nextFire(after: plan.cursor, in: rules.zone).map { startMillis(rules, nominal: $0) }
        return plan
    }

    /// `@reboot` (SPEC section 6): one fire at each start of the daemon. Its nominal time is the start
    /// instant, and the fire's identity with the schedule: a start never fires twice. A restart within the
    /// same second as the last fire (`cursor`) is a start too: its nominal time is the second after.
    public static func atStart(_ rules: ScheduleRules, cursor: Int64, startSeconds: Int64, inFlight: InFlight,
                               paused: Bool = false) -> PlannedFire? {
        guard rules.schedule == .reboot, rules.enabled, !paused else { return nil }
        var state = inFlight
        return PlannedFire(nominal: max(startSeconds, cursor + 1), trigger: .schedule, action: decide(rules.overlap, &state))
    }

    /// A manual trigger follows the schedule's overlap policy.
    public static func manual(_ overlap: OverlapPolicy, inFlight: InFlight) -> FireAction {
        var state = inFlight
        return decide(overlap, &state)
    }

    /// When a fire starts: its nominal time plus the schedule's jitter for it.
    public static func startMillis(_ rules: ScheduleRules, nominal: Int64) -> Int64 {
        nominal * 1000 + jitterMillis(rules, nominal: nominal)
    }

    /// A delay in [0, jitter), the same for a given schedule and nominal time in every process, and
    /// always before the schedule's next fire.
    public static func jitterMillis(_ rules: ScheduleRules, nominal: Int64) -> Int64 {
        guard rules.jitterSeconds > 0 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in rules.name.utf8 + Array(String(nominal).utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        var delay = Int64(hash % UInt64(rules.jitterSeconds * 1000))
        if let next = rules.schedule.nextFire(after: nominal, in: rules.zone) { delay = min(delay, (next - nominal) * 1000 - 1) }
        return max(delay, 0)
    }

    // MARK: pieces

    struct Due {
        /// The due nominal times within the catch-up window (the most recent ones if there are very many).
        var recent: [Int64] = []
        /// How many due nominal times the window holds (`recent` keeps the last few).
        var inWindow = 0
        /// Due nominal times before the window, counted only.
        var olderThanWindow = 0
        /// The new cursor: the last due nominal time, or where counting stopped.
        var processedThrough: Int64
    }

    /// Nominal times after `cursor` whose start has come. Those before the catch-up window are counted
    /// and skipped over; of the rest only the most recent few are kept, as no policy needs more.
    static func dueFires(_ rules: ScheduleRules, after cursor: Int64, nowMillis: Int64) -> Due {
        var due = Due(processedThrough: cursor)
        let windowStart = nowMillis / 1000 - rules.catchupWindowSeconds
        var position = cursor
        while due.olderThanWindow < maxCountedMisses, let next = rules.schedule.nextFire(after: position, in: rules.zone),
              next < windowStart {
            due.olderThanWindow += 1
            position = next
        }
        if due.olderThanWindow == maxCountedMisses { position = max(position, windowStart - 1) }
        let kept = maxCatchupRuns + 1
        while let next = rules.schedule.nextFire(after: position, in: rules.zone), startMillis(rules, nominal: next) <= nowMillis {
            due.recent.append(next)
            due.inWindow += 1
            if due.recent.count > 2 * kept { due.recent.removeFirst(due.recent.count - kept) }
            position = next
        }
        if due.recent.count > kept { due.recent.removeFirst(due.recent.count - kept) }
        due.processedThrough = position
        return due
    }

    /// `--catchup all` (SPEC section 6): every miss runs, one after another, whatever the overlap
    /// policy; with `allow-all` they may overlap.
    static func queueInTurn(_ overlap: OverlapPolicy, _ state: inout InFlight) -> FireAction {
        if overlap == .allowAll { return decide(overlap, &state) }
        guard state.running > 0 || state.buffered > 0 else {
            state.running += 1
            return .start
        }
        state.buffered += 1
        return .buffer
    }

    /// The overlap policy applied to one more fire, given what is in flight (updated).
    static func decide(_ overlap: OverlapPolicy, _ state: inout InFlight) -> FireAction {
        guard state.running > 0 || state.buffered > 0 else {
            state.running += 1
            return .start
        }
        switch overlap {
        case .skip:
            return .skip("a run of this schedule is still in flight (overlap: skip)")
        case .bufferOne:
            guard state.buffered == 0 else { return .skip("a fire is already waiting (overlap: buffer-one)") }
            state.buffered = 1
            return .buffer
        case .bufferAll:
            guard state.buffered < maxBuffered else { return .skip("\(maxBuffered) fires are already waiting (overlap: buffer-all)") }
            state.buffered += 1
            return .buffer
        case .cancelOther:
            state = InFlight(running: 1)
            return .cancelOthersAndStart
        case .allowAll:
            state.running += 1
            return .start
        }
    }
}

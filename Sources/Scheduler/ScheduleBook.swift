/// The schedules the scheduling loop watches, ordered by when each next needs the planner: one timer
/// (a min-heap of wake times) for all of them, so a wake-up costs O(log n) per due schedule, not O(n).
///
/// Entries sit in one array and the heap refers to them by slot: with 100,000 schedules a dictionary of
/// entries (sized to powers of two, a key and a wide value per bucket) would cost several times more.
/// `Payload` is what the caller keeps with each schedule (slothd: what it runs).
public struct ScheduleBook<Payload: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var rules: ScheduleRules
        /// The last nominal time processed (seconds).
        public var cursor: Int64
        public var payload: Payload
        var generation: UInt32
    }

    private var entries: [Entry] = []
    private var slots: [String: Int32] = [:]
    private var heap = WakeHeap()
    private var generations: UInt32 = 0
    public private(set) var paused: Bool
    /// Runs in flight and buffered fires: the overlap state the planner reads.
    public private(set) var flights = ScheduleFlights()

    public init(paused: Bool = false, payload: Payload.Type) { self.paused = paused }

    public var count: Int { entries.count }
    public func entry(_ name: String) -> Entry? { slots[name].map { entries[Int($0)] } }

    /// Room for `count` schedules, so loading many does not grow the tables step by step.
    public mutating func reserve(_ count: Int) {
        entries.reserveCapacity(count)
        slots.reserveCapacity(count)
        heap.reserve(count)
    }

    /// Adds or replaces a schedule; it is planned again from `cursor`.
    public mutating func set(_ rules: ScheduleRules, cursor: Int64, payload: Payload) {
        generations &+= 1
        let entry = Entry(rules: rules, cursor: cursor, payload: payload, generation: generations)
        let slot: Int32
        if let existing = slots[rules.name] {
            slot = existing
            entries[Int(slot)] = entry
        } else {
            slot = Int32(entries.count)
            entries.append(entry)
            slots[rules.name] = slot
        }
        schedule(slot)
    }

    /// Puts a schedule's cursor back (its plan could not be recorded): it is planned again from there,
    /// so fires that could not be recorded are never lost, only late (and then missed by policy).
    public mutating func rewind(_ name: String, to cursor: Int64) {
        guard let entry = entry(name) else { return }
        set(entry.rules, cursor: cursor, payload: entry.payload)
    }

    /// The last entry moves into the freed slot (and is queued again under it). The schedule's buffered
    /// fires are to be closed.
    @discardableResult
    public mutating func remove(_ name: String) -> [ScheduleFlights.Command] {
        let closing = flights.removed(name)
        guard let slot = slots.removeValue(forKey: name) else { return closing }
        let last = entries.removeLast()
        guard Int(slot) < entries.count else { return closing }
        generations &+= 1
        entries[Int(slot)] = Entry(rules: last.rules, cursor: last.cursor, payload: last.payload, generation: generations)
        slots[last.rules.name] = slot
        schedule(slot)
        return closing
    }

    public mutating func setPaused(_ paused: Bool) { self.paused = paused }

    /// When the earliest schedule needs the planner; nil if none ever will (or the scheduler is paused).
    public mutating func nextWakeMillis() -> Int64? {
        guard !paused else { return nil }
        dropStale()
        return heap.top?.wakeMillis
    }

    /// The next fire of a schedule after its cursor, in milliseconds with jitter.
    public func nextStartMillis(_ name: String) -> Int64? {
        guard let entry = entry(name), entry.rules.enabled, !paused,
              let next = entry.rules.schedule.nextFire(after: entry.cursor, in: entry.rules.zone) else { return nil }
        return FirePlanner.startMillis(entry.rules, nominal: next)
    }

    /// Plans every schedule whose wake time has come and moves its cursor on (`from` is where it was).
    public mutating func due(nowMillis: Int64) -> [(rules: ScheduleRules, plan: SchedulePlan, from: Int64)] {
        guard !paused else { return [] }
        var plans: [(rules: ScheduleRules, plan: SchedulePlan, from: Int64)] = []
        while true {
            dropStale()
            guard let top = heap.top, top.wakeMillis <= nowMillis else { break }
            heap.pop()
            let slot = Int(top.slot)
            let rules = entries[slot].rules
            let from = entries[slot].cursor
            let plan = FirePlanner.plan(rules, cursor: from, nowMillis: nowMillis, inFlight: flights.inFlight(rules.name))
            entries[slot].cursor = plan.cursor
            if let wake = plan.wakeMillis {
                heap.push(WakeHeap.Item(wakeMillis: wake, slot: top.slot, generation: top.generation))
            }
            plans.append((rules, plan, from))
        }
        return plans
    }

    /// The `@reboot` fires of a daemon that starts at `startSeconds` (they never enter the timer).
    public func startFires(startSeconds: Int64) -> [(rules: ScheduleRules, fire: PlannedFire)] {
        entries.compactMap { entry in
            FirePlanner.atStart(entry.rules, cursor: entry.cursor, startSeconds: startSeconds, inFlight: flights.inFlight(entry.rules.name),
                                paused: paused)
                .map { (entry.rules, $0) }
        }
    }

    // MARK: runs in flight

    /// A planned fire recorded as a run: what to start, cancel or close for it.
    public mutating func recorded(_ fire: ScheduleFlights.Fire, schedule: String, action: FireAction) -> [ScheduleFlights.Command] {
        flights.recorded(fire, schedule: schedule, action: action)
    }

    /// A run of the schedule ended, or never started: the next buffered fire may start.
    public mutating func runEnded(_ runID: Int64, schedule: String) -> [ScheduleFlights.Command] {
        flights.ended(runID, schedule: schedule)
    }

    /// What `scheduler trigger` does now, under the schedule's overlap policy; nil for an unknown schedule.
    public func trigger(_ name: String) -> FireAction? {
        entry(name).map { FirePlanner.manual($0.rules.overlap, inFlight: flights.inFlight(name)) }
    }

    /// Every schedule's name, in slot order.
    public var names: [String] { entries.map(\.rules.name) }

    /// Every enabled schedule that has a next fire must have a live timer; re-arms any that has not and
    /// returns their names (the reconciler logs and counts them: a schedule must never silently stop).
    public mutating func repairTimers() -> [String] {
        var armed = [Bool](repeating: false, count: entries.count)
        for item in heap.items where Int(item.slot) < entries.count && entries[Int(item.slot)].generation == item.generation {
            armed[Int(item.slot)] = true
        }
        var repaired: [String] = []
        for slot in entries.indices where !armed[slot] {
            let entry = entries[slot]
            guard entry.rules.enabled, entry.rules.schedule.nextFire(after: entry.cursor, in: entry.rules.zone) != nil else { continue }
            schedule(Int32(slot))
            repaired.append(entry.rules.name)
        }
        return repaired
    }

    /// Seconds since the schedule's next fire was due, when it is overdue at `nowMillis`; 0 when on time.
    public func lagSeconds(_ name: String, nowMillis: Int64) -> Int64 {
        guard !paused, let entry = entry(name), entry.rules.enabled,
              let next = entry.rules.schedule.nextFire(after: entry.cursor, in: entry.rules.zone) else { return 0 }
        return max(0, (nowMillis - FirePlanner.startMillis(entry.rules, nominal: next)) / 1000)
    }

    private mutating func schedule(_ slot: Int32) {
        let entry = entries[Int(slot)]
        guard entry.rules.enabled, let next = entry.rules.schedule.nextFire(after: entry.cursor, in: entry.rules.zone) else { return }
        heap.push(WakeHeap.Item(wakeMillis: FirePlanner.startMillis(entry.rules, nominal: next), slot: slot, generation: entry.generation))
    }

    /// Heap items of removed, moved or replaced schedules are dropped when they reach the top.
    private mutating func dropStale() {
        while let top = heap.top, Int(top.slot) >= entries.count || entries[Int(top.slot)].generation != top.generation { heap.pop() }
    }
}

extension ScheduleBook where Payload == Void {
    public init(paused: Bool = false) { self.init(paused: paused, payload: Void.self) }
    public mutating func set(_ rules: ScheduleRules, cursor: Int64) { set(rules, cursor: cursor, payload: ()) }
}

/// A binary min-heap of wake times.
struct WakeHeap: Sendable {
    struct Item: Sendable {
        var wakeMillis: Int64
        var slot: Int32
        var generation: UInt32
    }

    private(set) var items: [Item] = []

    var top: Item? { items.first }

    mutating func reserve(_ count: Int) { items.reserveCapacity(count) }

    mutating func push(_ item: Item) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].wakeMillis < items[parent].wakeMillis else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left].wakeMillis < items[smallest].wakeMillis { smallest = left }
            if right < items.count, items[right].wakeMillis < items[smallest].wakeMillis { smallest = right }
            guard smallest != parent else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// The schedules the scheduling loop watches, ordered by when each next needs the planner: one timer
/// (a min-heap of wake times) for all of them, so a wake-up costs O(log n) per due schedule, not O(n).
public struct ScheduleBook: Sendable {
    public struct Entry: Sendable {
        public var rules: ScheduleRules
        /// The last nominal time processed (seconds).
        public var cursor: Int64
        var generation: Int
    }

    private var entries: [String: Entry] = [:]
    private var heap = WakeHeap()
    private var generations = 0
    public private(set) var paused: Bool

    public init(paused: Bool = false) { self.paused = paused }

    public var count: Int { entries.count }

    /// Room for `count` schedules, so loading many does not grow the tables step by step.
    public mutating func reserve(_ count: Int) {
        entries.reserveCapacity(count)
        heap.reserve(count)
    }
    public func entry(_ name: String) -> Entry? { entries[name] }

    /// Adds or replaces a schedule; it is planned again from `cursor`.
    public mutating func set(_ rules: ScheduleRules, cursor: Int64) {
        generations += 1
        let entry = Entry(rules: rules, cursor: cursor, generation: generations)
        entries[rules.name] = entry
        if rules.enabled, let next = rules.schedule.nextFire(after: cursor, in: rules.zone) {
            heap.push(WakeHeap.Item(wakeMillis: FirePlanner.startMillis(rules, nominal: next), name: rules.name, generation: entry.generation))
        }
    }

    public mutating func remove(_ name: String) { entries[name] = nil }

    public mutating func setPaused(_ paused: Bool) { self.paused = paused }

    /// When the earliest schedule needs the planner; nil if none ever will (or the scheduler is paused).
    public mutating func nextWakeMillis() -> Int64? {
        guard !paused else { return nil }
        dropStale()
        return heap.top?.wakeMillis
    }

    /// The next fire of a schedule after its cursor, in milliseconds with jitter.
    public func nextStartMillis(_ name: String) -> Int64? {
        guard let entry = entries[name], entry.rules.enabled, !paused,
              let next = entry.rules.schedule.nextFire(after: entry.cursor, in: entry.rules.zone) else { return nil }
        return FirePlanner.startMillis(entry.rules, nominal: next)
    }

    /// Plans every schedule whose wake time has come and moves its cursor on.
    public mutating func due(nowMillis: Int64, inFlight: (String) -> InFlight) -> [(rules: ScheduleRules, plan: SchedulePlan)] {
        guard !paused else { return [] }
        var plans: [(rules: ScheduleRules, plan: SchedulePlan)] = []
        while true {
            dropStale()
            guard let top = heap.top, top.wakeMillis <= nowMillis else { break }
            heap.pop()
            guard var entry = entries[top.name] else { continue }
            let plan = FirePlanner.plan(entry.rules, cursor: entry.cursor, nowMillis: nowMillis, inFlight: inFlight(top.name))
            entry.cursor = plan.cursor
            entries[top.name] = entry
            if let wake = plan.wakeMillis {
                heap.push(WakeHeap.Item(wakeMillis: wake, name: top.name, generation: entry.generation))
            }
            plans.append((entry.rules, plan))
        }
        return plans
    }

    /// Heap items of removed or replaced schedules are dropped when they reach the top.
    private mutating func dropStale() {
        while let top = heap.top, entries[top.name]?.generation != top.generation { heap.pop() }
    }
}

/// A binary min-heap of wake times.
struct WakeHeap: Sendable {
    struct Item: Sendable {
        var wakeMillis: Int64
        var name: String
        var generation: Int
    }

    private var items: [Item] = []

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

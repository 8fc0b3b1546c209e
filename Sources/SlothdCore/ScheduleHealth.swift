import Catalog
import Scheduler

/// What one schedule's fires came to since slothd started: `scheduler show` and `/metrics` tell them, so
/// a schedule that stops firing is seen at once.
public struct ScheduleCounters: Sendable, Equatable {
    public var fired = 0
    public var skipped = 0
    public var missed = 0
    /// Fires that were due but could not start: the pool or the database refused them.
    public var blocked = 0
    /// Differences the reconciler found between the book and the catalog, and repaired.
    public var repaired = 0
    /// When a worker last took one of its runs (milliseconds since 1970).
    public var lastStartMillis: Int64?
    /// Seconds since its next fire was due, while it is overdue.
    public var lagSeconds: Int64 = 0
}

extension ScheduleService {
    /// The reconciler's period: the book is compared with the catalog this often.
    static let reconcileEveryMillis: Int64 = 60_000

    func count(_ schedule: String, _ change: (inout ScheduleCounters) -> Void) {
        change(&counters[schedule, default: ScheduleCounters()])
    }

    /// Each named schedule's next start and health, in one visit of the actor (a listing of 1,000).
    func listing(_ names: [String]) -> [String: (nextMillis: Int64?, health: ScheduleCounters)] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, (book.nextStartMillis($0), health($0))) })
    }

    /// The `count` enabled schedules due soonest, soonest first.
    func soonest(_ count: Int) -> [(name: String, nextMillis: Int64)] {
        let due = book.names.compactMap { name in book.nextStartMillis(name).map { (name: name, nextMillis: $0) } }
        return Array(due.sorted { ($0.nextMillis, $0.name) < ($1.nextMillis, $1.name) }.prefix(count))
    }

    /// A schedule's counters and its lag now.
    func health(_ name: String) -> ScheduleCounters {
        var counters = counters[name] ?? ScheduleCounters()
        counters.lagSeconds = book.lagSeconds(name, nowMillis: clock.nowMillis())
        return counters
    }

    /// The per-schedule series of `/metrics` now: counters, and the lag of every schedule that is or
    /// was overdue (a gauge per schedule only once it has lagged, as 100,000 would cost megabytes).
    func metricsText() -> [UInt8] {
        let now = clock.nowMillis()
        var snapshot = counters
        for name in book.names {
            let lag = book.lagSeconds(name, nowMillis: now)
            guard lag > 0 else { continue }
            laggedBefore.insert(name)
            snapshot[name, default: ScheduleCounters()].lagSeconds = lag
        }
        return ScheduleMetrics.text(snapshot, lagging: laggedBefore)
    }

    /// Compares the book with the catalog and repairs any difference: a schedule missing, changed or
    /// left over, the pause switch, a timer lost. Each repair is logged and counted; none is expected.
    func reconcile() {
        var repairs: [(schedule: String, what: String)] = []
        var stored = Set<String>()
        do {
            if try store.paused() != book.paused {
                book.setPaused(!book.paused)
                repairs.append(("the scheduler", "pause switch differed from the catalog"))
            }
            try store.forEach { schedule in
                stored.insert(schedule.name)
                guard let rules = try? Self.rules(schedule) else { return }
                let target = Self.target(schedule)
                guard let entry = book.entry(schedule.name) else {
                    book.set(rules, cursor: schedule.cursor, payload: target)
                    return repairs.append((schedule.name, "was not in the book"))
                }
                if entry.rules != rules || entry.payload != target {
                    book.set(rules, cursor: max(entry.cursor, schedule.cursor), payload: target)
                    repairs.append((schedule.name, "differed from the catalog"))
                }
            }
        } catch {
            return log.error("the reconciler could not read the schedules: \(error)")
        }
        for name in book.names where !stored.contains(name) {
            removed(name)
            repairs.append((name, "was removed from the catalog but still in the book"))
        }
        repairs += book.repairTimers().map { ($0, "had no timer") }
        for repair in repairs {
            count(repair.schedule) { $0.repaired += 1 }
            log.warn("reconciler: schedule \(repair.schedule) \(repair.what); repaired")
        }
    }
}

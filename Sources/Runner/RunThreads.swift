import Foundation

/// Dedicated threads for runs: Lua blocks while it waits for its operations, so a run never occupies one
/// of Swift's cooperative threads. Threads outlive their run and take the next one (starting a thread
/// and tearing down its allocator caches costs as much as a trivial run); one idle for a while exits.
final class RunThreads: @unchecked Sendable {
    static let shared = RunThreads()
    static let idleSeconds = 30.0
    static let stackBytes = 16 << 20

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var idle = 0

    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        let needsThread = jobs.count > idle
        condition.signal()
        condition.unlock()
        if needsThread { start() }
    }

    private func start() {
        let thread = Thread { [self] in work() }
        thread.stackSize = Self.stackBytes
        thread.name = "slothd run"
        thread.start()
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty {
                idle += 1
                let woken = condition.wait(until: Date(timeIntervalSinceNow: Self.idleSeconds))
                idle -= 1
                if !woken && jobs.isEmpty {
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
            condition.lock()
        }
    }
}

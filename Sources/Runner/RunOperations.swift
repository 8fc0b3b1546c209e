import Foundation

/// Blocking work started by Lua code (processes, HTTP): each operation runs off the Lua thread and
/// posts its result here; the run's scheduler collects results with `wait`.
final class RunOperations: @unchecked Sendable {
    private let condition = NSCondition()
    private var nextID: Int64 = 1
    private var completed: [(id: Int64, result: LuaValue)] = []
    private var cancellers: [Int64: @Sendable () -> Void] = [:]
    /// Operations whose work has not finished yet.
    private var unfinished: Set<Int64> = []
    /// Operations whose result somebody still waits for.
    private var wanted: Set<Int64> = []
    /// Set when the run is cancelled: `wait` returns at once so the Lua code gets to its cancel check.
    private var interrupted = false

    /// Starts `work`, which must call `finish(result)` exactly once from any thread, and may return a
    /// canceller; returns the operation id.
    func start(_ work: (_ finish: @escaping @Sendable (LuaValue) -> Void) -> (@Sendable () -> Void)?) -> Int64 {
        condition.lock()
        let id = nextID
        nextID += 1
        unfinished.insert(id)
        wanted.insert(id)
        condition.unlock()
        let cancel = work { [weak self] result in self?.finish(id, result) }
        condition.lock()
        if unfinished.contains(id), let cancel { cancellers[id] = cancel }
        condition.unlock()
        return id
    }

    private func finish(_ id: Int64, _ result: LuaValue) {
        condition.lock()
        defer { condition.unlock() }
        unfinished.remove(id)
        cancellers[id] = nil
        if wanted.remove(id) != nil { completed.append((id, result)) }
        condition.broadcast()
    }

    /// Results finished so far, waiting up to `timeoutMillis` (negative: indefinitely) for the first.
    func wait(timeoutMillis: Int64) -> [(id: Int64, result: LuaValue)] {
        condition.lock()
        defer { condition.unlock() }
        let deadline = timeoutMillis >= 0 ? Date(timeIntervalSinceNow: Double(timeoutMillis) / 1000) : nil
        while completed.isEmpty && !interrupted {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else if wanted.isEmpty {
                break
            } else {
                condition.wait()
            }
        }
        let results = completed
        completed.removeAll()
        return results
    }

    /// Stops an operation (a process's whole group is killed); its result is dropped.
    func cancel(_ id: Int64) {
        condition.lock()
        wanted.remove(id)
        let cancel = cancellers.removeValue(forKey: id)
        condition.unlock()
        cancel?()
    }

    /// Wakes `wait` for good and stops every operation (used when the whole run is cancelled).
    func interrupt() {
        condition.lock()
        interrupted = true
        let all = Array(cancellers.values)
        cancellers.removeAll()
        wanted.removeAll()
        condition.broadcast()
        condition.unlock()
        for cancel in all { cancel() }
    }

    /// Cancels everything still running and waits, up to `graceSeconds`, until the work has let go,
    /// so that no child process outlives its run.
    func cancelAll(graceSeconds: Double) {
        condition.lock()
        let all = cancellers
        cancellers.removeAll()
        wanted.removeAll()
        condition.unlock()
        for cancel in all.values { cancel() }
        let deadline = Date(timeIntervalSinceNow: graceSeconds)
        condition.lock()
        while !unfinished.isEmpty && condition.wait(until: deadline) {}
        condition.unlock()
    }
}

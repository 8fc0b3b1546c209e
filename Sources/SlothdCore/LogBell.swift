import Synchronization

/// Wakes the requests that follow a run's log as soon as its lines are stored or it ends, so a
/// follower sees a line the moment it is written instead of polling. A follower notes the bell's
/// generation before it reads what is stored, and waits only if its run has not rung since.
final class LogBell: Sendable {
    private struct Waiter {
        let token: Int
        let continuation: CheckedContinuation<Void, Never>
        /// Its time limit, cancelled when a ring wakes it first: fifty live-log streams on a chatty run
        /// would otherwise leave thousands of sleeping timers behind.
        var timer: Task<Void, Never>?

        func wake() {
            timer?.cancel()
            continuation.resume()
        }
    }

    private struct Rooms {
        /// Counts every ring; a run's last ring is its generation then.
        var generation = 0
        var lastRing: [Int64: Int] = [:]
        /// The generation when a run was last forgotten: a follower older than it re-reads at once.
        var forgotten = 0
        var waiters: [Int64: [Waiter]] = [:]
        var nextToken = 0

        func rang(_ run: Int64, after seen: Int) -> Bool {
            if let last = lastRing[run] { return last > seen }
            return forgotten > seen
        }
    }

    private let rooms = Mutex(Rooms())

    /// What to pass to `wait` after reading what is stored.
    var generation: Int { rooms.withLock { $0.generation } }

    func ring(_ run: Int64) {
        let woken = rooms.withLock { rooms -> [Waiter] in
            rooms.generation += 1
            rooms.lastRing[run] = rooms.generation
            return rooms.waiters.removeValue(forKey: run) ?? []
        }
        woken.forEach { $0.wake() }
    }

    /// The run ended and no follower waits: its entry goes (followers that noted an older generation
    /// then read once more, which is harmless).
    func forget(_ run: Int64) {
        rooms.withLock { rooms in
            guard rooms.waiters[run] == nil else { return }
            rooms.lastRing[run] = nil
            rooms.forgotten = rooms.generation
        }
    }

    /// Returns when the run rings after generation `seen`, or after `limit` at the latest.
    func wait(_ run: Int64, after seen: Int, upTo limit: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let token = rooms.withLock { rooms -> Int? in
                guard !rooms.rang(run, after: seen) else { return nil }
                rooms.nextToken += 1
                rooms.waiters[run, default: []].append(Waiter(token: rooms.nextToken, continuation: continuation))
                return rooms.nextToken
            }
            guard let token else { return continuation.resume() }
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                self.giveUp(run, token)
            }
            let waiting = rooms.withLock { rooms -> Bool in
                guard let index = rooms.waiters[run]?.firstIndex(where: { $0.token == token }) else { return false }
                rooms.waiters[run]?[index].timer = timer
                return true
            }
            if !waiting { timer.cancel() }
        }
    }

    private func giveUp(_ run: Int64, _ token: Int) {
        let waiter = rooms.withLock { rooms -> Waiter? in
            guard let index = rooms.waiters[run]?.firstIndex(where: { $0.token == token }) else { return nil }
            return rooms.waiters[run]?.remove(at: index)
        }
        waiter?.continuation.resume()
    }
}

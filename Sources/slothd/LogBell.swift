import Synchronization

/// Wakes the requests that follow a run's log as soon as its lines are stored or it ends, so a
/// follower sees a line the moment it is written instead of polling. Each run has a count of rings;
/// a follower notes it before reading, and waits only if nothing rang since.
final class LogBell: Sendable {
    private struct Waiter {
        let token: Int
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct Rooms {
        var rings: [Int64: Int] = [:]
        var waiters: [Int64: [Waiter]] = [:]
        var nextToken = 0
    }

    private let rooms = Mutex(Rooms())

    /// The count to pass to `wait` after reading what is stored.
    func rings(_ run: Int64) -> Int { rooms.withLock { $0.rings[run, default: 0] } }

    func ring(_ run: Int64) {
        let woken = rooms.withLock { rooms -> [Waiter] in
            rooms.rings[run, default: 0] += 1
            return rooms.waiters.removeValue(forKey: run) ?? []
        }
        woken.forEach { $0.continuation.resume() }
    }

    /// The run ended and no follower waits: forget its count.
    func forget(_ run: Int64) {
        rooms.withLock { rooms in if rooms.waiters[run] == nil { rooms.rings[run] = nil } }
    }

    /// Returns when the run rings after `seen`, or after `limit` at the latest.
    func wait(_ run: Int64, after seen: Int, upTo limit: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let token = rooms.withLock { rooms -> Int? in
                guard rooms.rings[run, default: 0] == seen else { return nil }
                rooms.nextToken += 1
                rooms.waiters[run, default: []].append(Waiter(token: rooms.nextToken, continuation: continuation))
                return rooms.nextToken
            }
            guard let token else { return continuation.resume() }
            Task {
                try? await Task.sleep(for: limit)
                self.giveUp(run, token)
            }
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

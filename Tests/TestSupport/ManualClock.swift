import Scheduler
import Synchronization

/// A clock that moves only when the test moves it (like NIO's `NIOAsyncTestingEventLoop`): sleepers
/// wake when `advance` or `set` passes their deadline, or at once when their task is cancelled.
public final class ManualClock: SchedulerClock {
    private struct Sleeper {
        let id: Int
        let deadline: Int64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Int64
        var sleepers: [Sleeper] = []
        var nextID = 0
        /// Sleepers cancelled before they were registered.
        var cancelled: Set<Int> = []
    }

    private let state: Mutex<State>

    public init(nowMillis: Int64) { state = Mutex(State(now: nowMillis)) }

    public func nowMillis() -> Int64 { state.withLock { $0.now } }

    /// Sleepers waiting now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    public func sleep(milliseconds: Int64) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> (any Error)?? in
                    if state.cancelled.remove(id) != nil { return .some(CancellationError()) }
                    if milliseconds <= 0 { return .some(nil) }
                    state.sleepers.append(Sleeper(id: id, deadline: state.now + milliseconds, continuation: continuation))
                    return .none
                }
                switch resumeNow {
                case .some(.some(let error)): continuation.resume(throwing: error)
                case .some(.none): continuation.resume()
                case .none: break
                }
            }
        } onCancel: {
            let waiting = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            waiting?.continuation.resume(throwing: CancellationError())
        }
    }

    public func advance(byMillis milliseconds: Int64) { set(nowMillis() + milliseconds) }

    /// Moves the clock to `millis` (backwards too: a wall-clock jump); wakes every sleeper now due.
    public func set(_ millis: Int64) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = millis
            let due = state.sleepers.filter { $0.deadline <= millis }
            state.sleepers.removeAll { $0.deadline <= millis }
            return due
        }
        due.forEach { $0.continuation.resume() }
    }
}

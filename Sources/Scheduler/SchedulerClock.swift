/// The time the scheduling loop reads and sleeps on: the wall clock in slothd, a manual clock in tests.
public protocol SchedulerClock: Sendable {
    /// Milliseconds since 1970 UTC.
    func nowMillis() -> Int64
    /// Returns after `milliseconds`, or early by throwing `CancellationError` when the task is cancelled.
    func sleep(milliseconds: Int64) async throws
}

public struct WallClock: SchedulerClock {
    public init() {}
    public func nowMillis() -> Int64 { SystemCalls.realtimeMillis() }
    public func sleep(milliseconds: Int64) async throws { try await Task.sleep(for: .milliseconds(milliseconds)) }
}

import Foundation

/// A thread of its own for one piece of Lua work an async caller waits for (a workflow check at the
/// door, a run in tests): Lua blocks while it waits, so it never runs on one of Swift's cooperative
/// threads. Daemon runs use the worker pool's threads; these are rare and short, so none is kept.
public enum LuaThread {
    static let stackBytes = 16 << 20

    /// Runs `work` on a new thread with the stack Lua states are given (an agent's task).
    public static func detach(name: String, _ work: @escaping @Sendable () -> Void) {
        let thread = Thread(block: work)
        thread.stackSize = stackBytes
        thread.name = name
        thread.start()
    }

    static func run<T: Sendable, Failure: Error>(_ work: @escaping @Sendable () throws(Failure) -> T) async throws(Failure) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
            let thread = Thread { continuation.resume(returning: Result { () throws(Failure) in try work() }) }
            thread.stackSize = stackBytes
            thread.name = "slothd lua"
            thread.start()
        }
        return try result.get()
    }
}

import Foundation

/// Threads of slothd's own for async code that blocks: the schedule service and the control routes
/// write to SQLite synchronously (a write may wait out the busy timeout), and on a 2-core host Swift's
/// cooperative pool has 2 threads that nothing may block. The schedule service's actor runs on a
/// `SerialThread`; each control request runs with `BlockingThreads` as its task executor.
public class JobThreads: @unchecked Sendable {
    /// Guards `jobs`; threads wait on it.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    init(name: String, threads: Int) {
        for _ in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = name
            thread.start()
        }
    }

    func push(_ job: UnownedJob) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs one job; the subclass says on which executor.
    func run(_ job: UnownedJob) {}

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head == jobs.count { (jobs, head) = ([], 0) }
            condition.unlock()
            run(job)
        }
    }
}

/// One thread as an actor's executor: the actor's code, blocking calls included, runs there in order.
public final class SerialThread: JobThreads, SerialExecutor, @unchecked Sendable {
    public init(name: String) { super.init(name: name, threads: 1) }

    public func enqueue(_ job: consuming ExecutorJob) { push(UnownedJob(job)) }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    override func run(_ job: UnownedJob) { job.runSynchronously(on: asUnownedSerialExecutor()) }
}

/// A few threads as a task executor (`withTaskExecutorPreference`): a request's nonisolated code runs there.
public final class BlockingThreads: JobThreads, TaskExecutor, @unchecked Sendable {
    public override init(name: String, threads: Int) { super.init(name: name, threads: threads) }

    public func enqueue(_ job: consuming ExecutorJob) { push(UnownedJob(job)) }

    override func run(_ job: UnownedJob) { job.runSynchronously(on: asUnownedTaskExecutor()) }
}

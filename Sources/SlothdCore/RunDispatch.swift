import Catalog
import Runner

/// What the schedule service and the routes need of the worker pool (tests give the service a
/// recording one): hand a run over, cancel it, end a run that never got there, hear every exit.
public protocol RunDispatch: Sendable {
    func submit(_ job: WorkerPool.Job) throws(WorkerPool.Refusal)
    func cancel(_ runID: Int64, reason: RunCancellation.Reason) -> Bool
    func close(_ run: UnstartedRun, state: RunState, error: String)
    var exits: AsyncStream<PoolExit> { get }
}

/// A start or an end of a run, as the pool reports it.
public enum PoolExit: Sendable, Equatable {
    /// A worker took the run (milliseconds since 1970 on the pool's clock).
    case started(runID: Int64, schedule: String?, nominal: Int64?, atMillis: Int64)
    /// The run ended, however it ended; once per run.
    case ended(runID: Int64, schedule: String?, state: RunState)
}

/// A recorded run, by what the daemon's log and metrics name it.
public struct UnstartedRun: Sendable, Equatable {
    public var runID: Int64
    /// The catalog name, for the metrics.
    public var workflow: String
    public var schedule: String?
    public init(runID: Int64, workflow: String, schedule: String? = nil) {
        (self.runID, self.workflow, self.schedule) = (runID, workflow, schedule)
    }
}

extension WorkerPool {
    public struct Job: Sendable {
        public var runID: Int64
        public var workflow: String
        public var request: RunRequest
        /// Milliseconds since 1970 on the pool's clock; set by the submitter.
        public var queuedAtMillis: Int64
        /// A scheduled run's schedule and nominal time (seconds since 1970).
        public var schedule: String?
        public var nominal: Int64?
        /// The run is cancelled and recorded `timed_out` past this many seconds.
        public var timeoutSeconds: Int64?
        /// Told how the run ended: its report, or nil when it ended without one (cancelled while
        /// queued, dropped at shutdown, or it could not start).
        public var finished: (@Sendable (RunReport?) -> Void)?

        public init(runID: Int64, workflow: String, request: RunRequest, queuedAtMillis: Int64, schedule: String? = nil,
                    nominal: Int64? = nil, timeoutSeconds: Int64? = nil, finished: (@Sendable (RunReport?) -> Void)? = nil) {
            (self.runID, self.workflow, self.request, self.queuedAtMillis) = (runID, workflow, request, queuedAtMillis)
            (self.schedule, self.nominal, self.timeoutSeconds, self.finished) = (schedule, nominal, timeoutSeconds, finished)
        }

        var unstarted: UnstartedRun { UnstartedRun(runID: runID, workflow: workflow, schedule: schedule) }
    }
}

/// First in, first out, with O(1) takes from the front: 10,000 fires due in one second queue at once.
struct JobQueue {
    private var jobs: [WorkerPool.Job?] = []
    private var head = 0

    var count: Int { jobs.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ job: WorkerPool.Job) { jobs.append(job) }

    mutating func removeFirst() -> WorkerPool.Job {
        let job = jobs[head]!
        jobs[head] = nil
        head += 1
        if head == jobs.count { (jobs, head) = ([], 0) } else if head > 1024 && head * 2 > jobs.count { compact() }
        return job
    }

    /// A queued job taken out of turn (cancelled while waiting).
    mutating func remove(_ runID: Int64) -> WorkerPool.Job? {
        guard let index = jobs[head...].firstIndex(where: { $0?.runID == runID }) else { return nil }
        let job = jobs.remove(at: index)
        return job
    }

    mutating func removeAll() -> [WorkerPool.Job] {
        defer { (jobs, head) = ([], 0) }
        return jobs[head...].compactMap { $0 }
    }

    private mutating func compact() {
        jobs.removeFirst(head)
        head = 0
    }
}

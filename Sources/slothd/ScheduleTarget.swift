import Catalog
import Foundation
import Scheduler

// What the scheduling loop keeps of each schedule, and what the worker pool tells it.

extension ScheduleService {
    /// What a schedule runs. Task selections, parameters, timeouts and stacks are rare, so they sit behind one
    /// optional reference: the common schedule costs a name and a pointer.
    struct Target: Sendable {
        final class Options: Sendable {
            let tasks: [String]
            let params: [String: String]
            let timeoutSeconds: Int64?
            let stack: String?
            let delegateTo: String?
            init(tasks: [String], params: [String: String], timeoutSeconds: Int64?, stack: String?, delegateTo: String?) {
                (self.tasks, self.params, self.timeoutSeconds, self.stack, self.delegateTo) = (tasks, params, timeoutSeconds, stack, delegateTo)
            }
        }

        var workflow: String
        private var options: Options?
        var tasks: [String] { options?.tasks ?? [] }
        var params: [String: String] { options?.params ?? [:] }
        var timeoutSeconds: Int64? { options?.timeoutSeconds }
        var stack: String? { options?.stack }
        var delegateTo: String? { options?.delegateTo }

        init(workflow: String, tasks: [String], params: [String: String], timeoutSeconds: Int64?, stack: String?, delegateTo: String? = nil) {
            self.workflow = workflow
            if !tasks.isEmpty || !params.isEmpty || timeoutSeconds != nil || stack != nil || delegateTo != nil {
                options = Options(tasks: tasks, params: params, timeoutSeconds: timeoutSeconds, stack: stack, delegateTo: delegateTo)
            }
        }
    }
}

/// The pool tells the scheduler when its runs start (lateness) and end (overlap, buffers).
struct ScheduleObserver: WorkerPoolObserver {
    let service: ScheduleService
    let metrics: DaemonMetrics

    func runStarted(_ job: WorkerPool.Job) {
        guard job.schedule != nil, let nominal = job.nominal else { return }
        let lateness = Int64((Date().timeIntervalSince1970 * 1000).rounded()) - nominal * 1000
        metrics.scheduleLateness(milliseconds: lateness)
    }

    func runEnded(_ job: WorkerPool.Job, state: RunState) {
        guard let schedule = job.schedule else { return }
        let service = self.service
        Task { await service.runEnded(job.runID, schedule: schedule) }
    }
}

extension RunTrigger {
    /// The run a planned fire starts.
    init(_ trigger: FireTrigger) {
        switch trigger {
        case .schedule: self = .schedule
        case .catchup: self = .catchup
        case .manual: self = .manual
        }
    }
}

import Catalog
import Scheduler

// What the scheduling loop keeps of each schedule.

extension ScheduleService {
    /// What a schedule runs. Task selections, parameters, timeouts and stacks are rare, so they sit behind one
    /// optional reference: the common schedule costs a name and a pointer.
    struct Target: Sendable, Equatable {
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

        static func == (a: Target, b: Target) -> Bool {
            a.workflow == b.workflow && a.tasks == b.tasks && a.params == b.params && a.timeoutSeconds == b.timeoutSeconds
                && a.stack == b.stack && a.delegateTo == b.delegateTo
        }
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

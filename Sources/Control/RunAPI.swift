import Catalog
import Foundation

extension ControlAPI {
    /// One run as `runs show -o json` prints it (SPEC section 4): every value in its JSON type.
    public struct Run: Codable, Sendable, Equatable {
        public var id: Int64
        public var workflow: String
        /// The catalog version the run used; null for a file run (`run -f`).
        public var workflow_version: Int?
        /// The workflow's own `version` string.
        public var declared_version: String?
        public var schedule: String?
        public var stack: String?
        public var trigger: RunTrigger
        public var state: RunState
        public var nominal_at: String?
        public var queued_at: String
        public var started_at: String?
        public var ended_at: String?
        public var error: String?
        public var tasks: [String: Task]

        public init(id: Int64, workflow: String, workflow_version: Int?, declared_version: String?, schedule: String?, stack: String?,
                    trigger: RunTrigger, state: RunState, nominal_at: String?, queued_at: String, started_at: String?, ended_at: String?,
                    error: String?, tasks: [String: Task]) {
            (self.id, self.workflow, self.workflow_version, self.declared_version) = (id, workflow, workflow_version, declared_version)
            (self.schedule, self.stack, self.trigger, self.state, self.nominal_at) = (schedule, stack, trigger, state, nominal_at)
            (self.queued_at, self.started_at, self.ended_at, self.error, self.tasks) = (queued_at, started_at, ended_at, error, tasks)
        }

        public var isFinished: Bool { state.isFinished }

        enum CodingKeys: String, CodingKey {
            case id, workflow, workflow_version, declared_version, schedule, stack, trigger, state, nominal_at, queued_at
            case started_at, ended_at, error, tasks
        }

        /// `workflow_version` is always there (null outside the catalog); the other optional keys only when set.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(workflow, forKey: .workflow)
            try container.encode(workflow_version, forKey: .workflow_version)
            try container.encodeIfPresent(declared_version, forKey: .declared_version)
            try container.encodeIfPresent(schedule, forKey: .schedule)
            try container.encodeIfPresent(stack, forKey: .stack)
            try container.encode(trigger, forKey: .trigger)
            try container.encode(state, forKey: .state)
            try container.encodeIfPresent(nominal_at, forKey: .nominal_at)
            try container.encode(queued_at, forKey: .queued_at)
            try container.encodeIfPresent(started_at, forKey: .started_at)
            try container.encodeIfPresent(ended_at, forKey: .ended_at)
            try container.encodeIfPresent(error, forKey: .error)
            try container.encode(tasks, forKey: .tasks)
        }
    }

    /// One task of a run: `success|failed|skipped|timed_out|cancelled`.
    public struct Task: Codable, Sendable, Equatable {
        public var status: TaskStatus
        public var started_at: String?
        public var ended_at: String?
        public var duration_ms: Int64?
        public var attempts: Int
        public var error: String?
        public var exit_code: Int?
        public var agent: String?
        public var output: JSONValue?
        public init(status: TaskStatus, started_at: String?, ended_at: String?, duration_ms: Int64?, attempts: Int, error: String?,
                    exit_code: Int?, agent: String? = nil, output: JSONValue?) {
            (self.status, self.started_at, self.ended_at, self.duration_ms, self.attempts) = (status, started_at, ended_at, duration_ms, attempts)
            (self.error, self.exit_code, self.agent, self.output) = (error, exit_code, agent, output)
        }
    }

    /// A line of a run's log (`runs logs -o json` prints one per line).
    public struct LogLine: Codable, Sendable, Equatable {
        public var id: Int64
        /// RFC 3339 with milliseconds.
        public var time: String
        public var level: String
        public var task: String?
        /// `stdout` or `stderr` for what a job printed.
        public var stream: String?
        public var agent: String?
        public var text: String
        public init(id: Int64, time: String, level: String, task: String?, stream: String? = nil, agent: String? = nil, text: String) {
            (self.id, self.time, self.level, self.task, self.stream, self.agent, self.text) = (id, time, level, task, stream, agent, text)
        }
    }

    public struct LogPage: Codable, Sendable {
        public var lines: [LogLine]
        public var next: Int64
        public var finished: Bool
        public init(lines: [LogLine], next: Int64, finished: Bool) { (self.lines, self.next, self.finished) = (lines, next, finished) }
    }
}

/// The control API's request and response bodies (JSON over HTTP/1.1 on the Unix socket, paths under `/v1`).
/// Times are RFC 3339 strings with the daemon's offset.
public enum ControlAPI {
    public struct Failure: Codable, Sendable, Equatable {
        public var error: Detail
        public struct Detail: Codable, Sendable, Equatable {
            public var code: String
            public var message: String
        }
        public init(code: String, message: String) { error = Detail(code: code, message: message) }
    }

    public struct AddWorkflow: Codable, Sendable {
        public var name: String
        public var content: String
        public var file: String?
        public var description: String?
        public var tags: [String]
        public var active: Bool
        /// The workflow of the file the catalog workflow runs, when the file defines several.
        public var workflow: String?
        public init(name: String, content: String, file: String?, description: String?, tags: [String], active: Bool, workflow: String? = nil) {
            (self.name, self.content, self.file, self.description, self.tags, self.active) = (name, content, file, description, tags, active)
            self.workflow = workflow
        }
    }

    public struct UpdateWorkflow: Codable, Sendable {
        public var content: String
        public var file: String?
        /// As in `AddWorkflow`; omitted: the one the current version runs, if the file still defines it.
        public var workflow: String?
        public init(content: String, file: String?, workflow: String? = nil) { (self.content, self.file, self.workflow) = (content, file, workflow) }
    }

    public struct Workflow: Codable, Sendable, Equatable {
        public var name: String
        public var description: String?
        public var tags: [String]
        public var active: Bool
        public var version: Int
        public var sha256: String
        public var file: String?
        public var created_at: String
        public var updated_at: String
        public var last_used_at: String?
        public var usage_count: Int
        public var content: String?
        public var changed: Bool?
        /// Which of the file's workflows runs (set when the file defines several).
        public var entry: String?
        public init(name: String, description: String?, tags: [String], active: Bool, version: Int, sha256: String, file: String?,
                    created_at: String, updated_at: String, last_used_at: String?, usage_count: Int, content: String?, changed: Bool? = nil) {
            (self.name, self.description, self.tags, self.active, self.version, self.sha256, self.file) =
                (name, description, tags, active, version, sha256, file)
            (self.created_at, self.updated_at, self.last_used_at, self.usage_count, self.content, self.changed) =
                (created_at, updated_at, last_used_at, usage_count, content, changed)
        }
    }

    public struct Version: Codable, Sendable, Equatable {
        public var version: Int
        public var sha256: String
        public var file: String?
        public var created_at: String
        public init(version: Int, sha256: String, file: String?, created_at: String) {
            (self.version, self.sha256, self.file, self.created_at) = (version, sha256, file, created_at)
        }
    }

    public struct StartRun: Codable, Sendable {
        public var workflow: String
        public var params: [String: String]
        public var tasks: [String]
        /// Omitted: the active stack; empty: none.
        public var stack: String?
        /// `--delegate-to`: the agents for every task without its own.
        public var delegate_to: [String]?
        /// `sloth run -f FILE --delegate-to A`: the file itself instead of a catalog workflow (`workflow`
        /// is then the file's workflow to run, or empty), and its `--values` as JSON.
        public var file: String?
        public var content: String?
        public var values_json: String?
        public init(workflow: String, params: [String: String], tasks: [String], stack: String? = nil, delegate_to: [String]? = nil,
                    file: String? = nil, content: String? = nil, values_json: String? = nil) {
            (self.workflow, self.params, self.tasks, self.stack, self.delegate_to) = (workflow, params, tasks, stack, delegate_to)
            (self.file, self.content, self.values_json) = (file, content, values_json)
        }
    }

    /// `POST /v1/schedules`. Durations are text (`90s`, `24h`, `1h30m`); omitted values take the defaults.
    public struct AddSchedule: Codable, Sendable {
        public var name: String
        public var workflow: String
        public var cron: String
        public var tz: String?
        public var tasks: [String]
        public var params: [String: String]
        public var overlap: String?
        public var catchup: String?
        public var catchup_window: String?
        public var jitter: String?
        public var timeout: String?
        public var description: String?
        public var disabled: Bool
        /// Omitted: the active stack; empty: none.
        public var stack: String?
        /// The agent for every task without its own `delegate_to`.
        public var delegate_to: String?
        public init(name: String, workflow: String, cron: String, tz: String?, tasks: [String], params: [String: String],
                    overlap: String?, catchup: String?, catchup_window: String?, jitter: String?, timeout: String?,
                    description: String?, disabled: Bool, stack: String? = nil, delegate_to: String? = nil) {
            (self.stack, self.delegate_to) = (stack, delegate_to)
            (self.name, self.workflow, self.cron, self.tz, self.tasks, self.params) = (name, workflow, cron, tz, tasks, params)
            (self.overlap, self.catchup, self.catchup_window, self.jitter) = (overlap, catchup, catchup_window, jitter)
            (self.timeout, self.description, self.disabled) = (timeout, description, disabled)
        }
    }

    /// A schedule as `scheduler list` and `show` print it (`next` and `recent_runs` only from `show`).
    public struct Schedule: Codable, Sendable, Equatable {
        public var name: String
        public var workflow: String
        public var cron: String
        public var tz: String
        public var enabled: Bool
        public var overlap: String
        public var catchup: String
        public var next_at: String?
        public var last_at: String?
        public var last_state: String?
        public var catchup_window: String
        public var jitter: String?
        public var timeout: String?
        public var tasks: [String]
        public var params: [String: String]
        public var stack: String?
        public var delegate_to: String?
        public var description: String?
        public var note: String?
        public var fired: Int
        public var skipped: Int
        public var missed: Int
        /// Fires the pool or the database refused since slothd started.
        public var blocked: Int?
        /// Seconds since the next fire was due (0 while on time).
        public var lag_seconds: Int64?
        public var next: [String]?
        public var recent_runs: [Run]?
        public init(name: String, workflow: String, cron: String, tz: String, enabled: Bool, overlap: String, catchup: String,
                    catchup_window: String, tasks: [String], params: [String: String], fired: Int, skipped: Int, missed: Int) {
            (self.name, self.workflow, self.cron, self.tz, self.enabled, self.overlap, self.catchup) = (name, workflow, cron, tz, enabled, overlap, catchup)
            (self.catchup_window, self.tasks, self.params, self.fired, self.skipped, self.missed) = (catchup_window, tasks, params, fired, skipped, missed)
        }
    }

    /// `POST /v1/schedules/NAME/enable|disable` and `/v1/scheduler/enable|disable`.
    public struct SetEnabled: Codable, Sendable {
        public var note: String?
        public init(note: String?) { self.note = note }
    }

    /// `sloth ui --token`: a dashboard login token (`token` only in the answer that creates it).
    public struct LoginToken: Codable, Sendable, Equatable {
        public var id: Int64
        public var user: String
        public var created_at: String
        public var revoked_at: String?
        public var last_used_at: String?
        public var token: String?
        public init(id: Int64, user: String, created_at: String) { (self.id, self.user, self.created_at) = (id, user, created_at) }
    }

    public struct CreateLoginToken: Codable, Sendable {
        public var user: String
        public init(user: String) { self.user = user }
    }

    /// A run in `Status`: what a worker is busy with, since when.
    public struct RunningRun: Codable, Sendable, Equatable {
        public var id: Int64
        public var workflow: String
        public var schedule: String?
        public var started_at: String
        public init(id: Int64, workflow: String, schedule: String?, started_at: String) {
            (self.id, self.workflow, self.schedule, self.started_at) = (id, workflow, schedule, started_at)
        }
    }

    public struct Status: Codable, Sendable {
        public var version: String
        public var pid: Int32
        public var uptime_seconds: Int64
        public var workers: Int
        public var busy_workers: Int
        public var queued: Int
        public var queue_capacity: Int
        public var scheduler: String
        public var schedules: Int?
        public var next_fire: String?
        public var database: String
        /// Set while the database refuses writes (a full disk): fires wait until it takes them again.
        public var database_problem: String? = nil
        /// Why the scheduler is paused (`scheduler disable --note`), while it is.
        public var scheduler_note: String? = nil
        /// The runs the workers are running, oldest first.
        public var running: [RunningRun]? = nil
        /// Agents connected now; nil when slothd does not listen for agents.
        public var agents_connected: Int? = nil
        /// The dashboard's address; nil when slothd serves none (`--http-listen`).
        public var dashboard_url: String? = nil
        public init(version: String, pid: Int32, uptime_seconds: Int64, workers: Int, busy_workers: Int, queued: Int,
                    queue_capacity: Int, scheduler: String, schedules: Int?, next_fire: String?, database: String) {
            (self.version, self.pid, self.uptime_seconds, self.workers, self.busy_workers) = (version, pid, uptime_seconds, workers, busy_workers)
            (self.queued, self.queue_capacity, self.scheduler, self.schedules, self.next_fire, self.database) =
                (queued, queue_capacity, scheduler, schedules, next_fire, database)
        }
    }
}

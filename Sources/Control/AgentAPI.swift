/// Agents on the control API (`/v1/agents`, SPEC section 8).
extension ControlAPI {
    public struct Agent: Codable, Sendable, Equatable {
        public var name: String
        /// `connected` or `disconnected`.
        public var status: String
        public var address: String?
        public var tags: [String: String]
        public var running: Int
        public var last_seen: String
        public var version: String?
        public var registered_at: String
        /// Only from `GET /v1/agents/NAME`.
        public var facts: [String: String]?
        public var recent_tasks: [AgentTask]?
        public init(name: String, status: String, address: String?, tags: [String: String], running: Int, last_seen: String,
                    version: String?, registered_at: String) {
            (self.name, self.status, self.address, self.tags, self.running) = (name, status, address, tags, running)
            (self.last_seen, self.version, self.registered_at) = (last_seen, version, registered_at)
        }
    }

    public struct AgentTask: Codable, Sendable, Equatable {
        public var run_id: Int64
        public var task: String
        public var status: String
        public var ended_at: String?
        public init(run_id: Int64, task: String, status: String, ended_at: String?) {
            (self.run_id, self.task, self.status, self.ended_at) = (run_id, task, status, ended_at)
        }
    }

    public struct NewAgentToken: Codable, Sendable {
        public var name: String
        public init(name: String) { self.name = name }
    }

    public struct AgentToken: Codable, Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var created_at: String
        public var revoked_at: String?
        public var last_used_at: String?
        /// Only in the answer to `POST /v1/agent-tokens`: shown once, never stored.
        public var token: String?
        public init(id: Int64, name: String, created_at: String, revoked_at: String?, last_used_at: String?, token: String?) {
            (self.id, self.name, self.created_at, self.revoked_at, self.last_used_at, self.token) =
                (id, name, created_at, revoked_at, last_used_at, token)
        }
    }

    /// `POST /v1/agents/NAME/run`.
    public struct AgentCommand: Codable, Sendable {
        public var command: String
        public var timeout_s: Int?
        public init(command: String, timeout_s: Int?) { (self.command, self.timeout_s) = (command, timeout_s) }
    }

    public struct AgentCommandStarted: Codable, Sendable {
        public var id: String
        public init(id: String) { self.id = id }
    }

    /// `GET /v1/agent-commands/ID?after=N&wait=MS`: output since chunk N; `exit_code` once it ended.
    public struct AgentCommandOutput: Codable, Sendable {
        public struct Chunk: Codable, Sendable {
            public var stderr: Bool
            public var text: String
            public init(stderr: Bool, text: String) { (self.stderr, self.text) = (stderr, text) }
        }
        public var chunks: [Chunk]
        public var next: Int
        public var finished: Bool
        public var exit_code: Int?
        public var error: String?
        public init(chunks: [Chunk], next: Int, finished: Bool, exit_code: Int?, error: String?) {
            (self.chunks, self.next, self.finished, self.exit_code, self.error) = (chunks, next, finished, exit_code, error)
        }
    }
}

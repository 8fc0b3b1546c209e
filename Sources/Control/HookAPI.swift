import Catalog

/// Hooks on the control API (`/v1/hooks`).
extension ControlAPI {
    public struct AddHook: Codable, Sendable {
        public var name: String
        /// An event type, or `prefix.*`.
        public var event: String
        public var script: String
        public var file: String?
        public var description: String?
        public init(name: String, event: String, script: String, file: String?, description: String?) {
            (self.name, self.event, self.script, self.file, self.description) = (name, event, script, file, description)
        }
    }

    public struct Hook: Codable, Sendable, Equatable {
        public var name: String
        public var event: String
        public var file: String?
        public var description: String?
        public var enabled: Bool
        public var created_at: String
        public var updated_at: String
        /// Only from `GET /v1/hooks/NAME`: the last ten, newest first.
        public var executions: [HookExecution]?
        public init(name: String, event: String, file: String?, description: String?, enabled: Bool, created_at: String, updated_at: String) {
            (self.name, self.event, self.file, self.description, self.enabled) = (name, event, file, description, enabled)
            (self.created_at, self.updated_at) = (created_at, updated_at)
        }
    }

    public struct HookExecution: Codable, Sendable, Equatable {
        public var event_id: Int64?
        public var event_type: String
        public var run_id: Int64?
        public var status: HookOutcome
        public var error: String?
        public var at: String
        public var duration: String
        public init(event_id: Int64?, event_type: String, run_id: Int64?, status: HookOutcome, error: String?, at: String, duration: String) {
            (self.event_id, self.event_type, self.run_id, self.status, self.error, self.at, self.duration) =
                (event_id, event_type, run_id, status, error, at, duration)
        }
    }

    /// `POST /v1/hooks/NAME/test`: a mock event.
    public struct TestHook: Codable, Sendable {
        public var event_type: String
        public var data: JSONValue
        public init(event_type: String, data: JSONValue) { (self.event_type, self.data) = (event_type, data) }
    }
}

/// Stacks and secrets on the control API (`/v1/stacks`, `/v1/secrets`). A `stack` query parameter
/// names the stack; omitted, the active stack is meant (for `secrets list`: every stack); empty, none.
extension ControlAPI {
    public struct NewStack: Codable, Sendable {
        public var name: String
        public var description: String?
        public init(name: String, description: String?) { (self.name, self.description) = (name, description) }
    }

    /// `POST /v1/stacks/NAME/values`: values to set (JSON text each) and keys to remove.
    public struct StackValues: Codable, Sendable {
        public var set: [String: String]
        public var unset: [String]
        public init(set: [String: String], unset: [String]) { (self.set, self.unset) = (set, unset) }
    }

    public struct Stack: Codable, Sendable, Equatable {
        public var name: String
        public var description: String?
        public var active: Bool
        public var values: [String: JSONValue]
        public var secrets: Int
        public var runs: Int
        public var created_at: String
        public var updated_at: String
        public var last_run: LastRun?
        /// Only from `GET /v1/stacks/NAME`.
        public var recent_runs: [Run]?
        public init(name: String, description: String?, active: Bool, values: [String: JSONValue], secrets: Int, runs: Int,
                    created_at: String, updated_at: String, last_run: LastRun?) {
            (self.name, self.description, self.active, self.values, self.secrets, self.runs) = (name, description, active, values, secrets, runs)
            (self.created_at, self.updated_at, self.last_run) = (created_at, updated_at, last_run)
        }
    }

    public struct LastRun: Codable, Sendable, Equatable {
        public var id: Int64
        public var at: String
        public var state: String?
        public var duration: String?
        public var error: String?
        public var outputs: JSONValue?
        public init(id: Int64, at: String, state: String?, duration: String?, error: String?, outputs: JSONValue?) {
            (self.id, self.at, self.state, self.duration, self.error, self.outputs) = (id, at, state, duration, error, outputs)
        }
    }

    /// `PUT /v1/secrets/NAME`.
    public struct SecretValue: Codable, Sendable {
        public var value: String
        public init(value: String) { self.value = value }
    }

    /// A secret as `secrets list` shows it; `value` only from `GET /v1/secrets/NAME`.
    public struct Secret: Codable, Sendable, Equatable {
        public var name: String
        public var stack: String?
        public var created_at: String
        public var updated_at: String
        public var accessed_at: String?
        public var value: String?
        public var created: Bool?
        public init(name: String, stack: String?, created_at: String, updated_at: String, accessed_at: String?) {
            (self.name, self.stack, self.created_at, self.updated_at, self.accessed_at) = (name, stack, created_at, updated_at, accessed_at)
        }
    }
}

extension ControlAPI {
    /// `POST /v1/secrets-key/rotate`: the new key file's bytes (base64), or none for a fresh key.
    public struct Rekey: Codable, Sendable {
        public var key_file_base64: String?
        public init(key_file_base64: String?) { self.key_file_base64 = key_file_base64 }
    }

    public struct Rekeyed: Codable, Sendable, Equatable {
        public var secrets: Int
        public var key_id: String
        public var key_path: String
        /// The key came from systemd credentials: the new one must be installed there before a restart.
        public var credentials: Bool
        public init(secrets: Int, key_id: String, key_path: String, credentials: Bool) {
            (self.secrets, self.key_id, self.key_path, self.credentials) = (secrets, key_id, key_path, credentials)
        }
    }
}

extension ControlAPI {
    /// An event row (`GET /v1/events`, `/v1/events/ID`).
    public struct Event: Codable, Sendable, Equatable {
        public var id: Int64
        public var type: String
        public var at: String
        public var run_id: Int64?
        public var stack: String?
        public var data: JSONValue
        public init(id: Int64, type: String, at: String, run_id: Int64?, stack: String?, data: JSONValue) {
            (self.id, self.type, self.at, self.run_id, self.stack, self.data) = (id, type, at, run_id, stack, data)
        }
    }

    /// `POST /v1/events/cleanup`.
    public struct EventsCleanup: Codable, Sendable {
        public var older_than: String
        public var deleted: Int?
        public init(older_than: String, deleted: Int? = nil) { (self.older_than, self.deleted) = (older_than, deleted) }
    }
}

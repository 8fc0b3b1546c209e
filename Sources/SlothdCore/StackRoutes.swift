import Catalog
import Control
import Foundation
import Runner

/// `/v1/stacks` and `/v1/secrets`. Secret values arrive in request bodies (never in paths or the
/// audit), are sealed at once, and leave only through `GET /v1/secrets/NAME`.
extension ControlRouter {
    var stacks: StackStore { StackStore(database: database) }
    var secrets: SecretStore { SecretStore(database: database, keyring: keyring) }

    static let maxSecretBytes = 64 << 10

    /// A `stack` field or query parameter: omitted means the active stack (if any), empty means none.
    func stackScope(_ given: String?) throws -> String? { try stacks.resolve(given) }

    func createStack(_ request: ControlRequest) throws -> ControlResponse {
        let body = try decode(ControlAPI.NewStack.self, request)
        guard Self.validName(body.name) else { throw BadRequest(message: "invalid stack name \"\(body.name)\": use letters, digits, . _ -") }
        let created = try stacks.create(body.name, description: body.description)
        try audit(request, "stack.create", body.name)
        return .json(wire(created), status: 201)
    }

    func showStack(_ name: String) throws -> ControlAPI.Stack {
        var shown = wire(try stacks.get(name))
        shown.recent_runs = try wire(runs.list(.init(stack: name, limit: 10)))
        return shown
    }

    func setStackValues(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        let body = try decode(ControlAPI.StackValues.self, request)
        for key in Array(body.set.keys) + body.unset where !Self.validName(key) {
            throw BadRequest(message: "invalid value key \"\(key)\": use letters, digits, . _ -")
        }
        // The bounded parser runs read these values: what it refuses would fail every run of the stack.
        for (key, json) in body.set {
            do { _ = try LuaJSON.decode(json) } catch {
                throw BadRequest(message: "the value of \"\(key)\" is not JSON text a run can read: \(error.description)")
            }
        }
        let updated = try stacks.update(name, set: body.set, unset: body.unset)
        try audit(request, "stack.update", name, detail: (body.set.keys.sorted() + body.unset.sorted().map { "-" + $0 }).joined(separator: " "))
        return .json(wire(updated))
    }

    func deleteStack(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        try stacks.delete(name, force: request.query["force"] == "1")
        try audit(request, "stack.delete", name)
        return .json(ControlClient.Empty())
    }

    func activateStack(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        let activated = try stacks.activate(name)
        try audit(request, "stack.activate", name)
        return .json(wire(activated))
    }

    func listSecrets(_ request: ControlRequest) throws -> ControlResponse {
        let stack = request.query["stack"]
        if let stack, !stack.isEmpty { try stacks.require(stack) }
        return .json(try secrets.list(stack: stack).map(wire))
    }

    func setSecret(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        guard Self.validName(name) else { throw BadRequest(message: "invalid secret name \"\(name)\": use letters, digits, . _ -") }
        let body = try decode(ControlAPI.SecretValue.self, request)
        guard !body.value.isEmpty else { throw BadRequest(message: "the secret value is empty") }
        guard body.value.utf8.count <= Self.maxSecretBytes else {
            throw BadRequest(message: "the secret value has \(body.value.utf8.count) bytes; the limit is \(Self.maxSecretBytes)")
        }
        let stack = try stackScope(request.query["stack"])
        let created = try secrets.set(name, stack: stack, value: body.value, by: actor(request))
        try audit(request, created ? "secret.create" : "secret.update", Self.slot(name, stack))
        return .json(try answer(name, stack: stack, created: created), status: created ? 201 : 200)
    }

    func getSecret(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        let stack = try stackScope(request.query["stack"])
        let value = try secrets.get(name, stack: stack, by: actor(request))
        try audit(request, "secret.read", Self.slot(name, stack))
        var shown = try answer(name, stack: stack)
        shown.value = value
        return .json(shown)
    }

    func removeSecret(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        let stack = try stackScope(request.query["stack"])
        try secrets.remove(name, stack: stack, by: actor(request))
        try audit(request, "secret.remove", Self.slot(name, stack))
        return .json(ControlClient.Empty())
    }

    /// Re-seals every secret with a new key: the one given (base64 of its file), or a fresh one.
    func rekeySecrets(_ request: ControlRequest) throws -> ControlResponse {
        let body = try decode(ControlAPI.Rekey.self, request)
        var key: [UInt8]?
        if let text = body.key_file_base64 {
            guard let file = Data(base64Encoded: text), let parsed = SecretKeyring.parse(Array(file)) else {
                throw BadRequest(message: "the new key file is not 32 bytes, nor their base64 or hex text")
            }
            key = parsed
        }
        let (count, id) = try secrets.rekey(to: key, by: actor(request))
        try audit(request, "secret.rekey", "secrets", detail: "key id \(id), \(count) secrets")
        return .json(ControlAPI.Rekeyed(secrets: count, key_id: id, key_path: keyring.path, credentials: keyring.fromCredentials))
    }

    // MARK: pieces

    private func answer(_ name: String, stack: String?, created: Bool? = nil) throws -> ControlAPI.Secret {
        guard let found = try secrets.list(stack: stack ?? "").first(where: { $0.name == name }) else {
            throw SecretStore.Error.unknown(name: name, stack: stack)
        }
        var shown = wire(found)
        shown.created = created
        return shown
    }

    private func actor(_ request: ControlRequest) -> String {
        request.user.map { "user \($0)" } ?? request.peerUID.map { "uid \($0)" } ?? "slothd"
    }

    private static func slot(_ name: String, _ stack: String?) -> String { stack.map { "\($0)/\(name)" } ?? name }

    private func wire(_ secret: SecretStore.Secret) -> ControlAPI.Secret {
        ControlAPI.Secret(name: secret.name, stack: secret.stack, created_at: time(secret.createdAt), updated_at: time(secret.updatedAt),
                          accessed_at: secret.accessedAt.map(time))
    }

    func wire(_ stack: StackStore.Stack) -> ControlAPI.Stack {
        let last = stack.lastRunID.map {
            ControlAPI.LastRun(id: $0, at: time(stack.lastRunAt ?? 0), state: stack.lastState,
                               duration: stack.lastDurationMillis.map(RunDocument.duration), error: stack.lastError,
                               outputs: stack.lastOutputsJSON.flatMap { JSONValue(json: $0) })
        }
        return ControlAPI.Stack(name: stack.name, description: stack.description, active: stack.active,
                                values: stack.values.compactMapValues { JSONValue(json: $0) }, secrets: stack.secrets, runs: stack.runs,
                                created_at: time(stack.createdAt), updated_at: time(stack.updatedAt), last_run: last)
    }
}

import Catalog
import Control
import Foundation
import Runner

/// `/v1/hooks`: hook scripts are checked for Lua syntax, then loaded in the sandbox, before they are stored.
extension ControlRouter {
    var hooks: HookStore { HookStore(database: database) }

    func addHook(_ request: ControlRequest) async throws -> ControlResponse {
        let body = try decode(ControlAPI.AddHook.self, request)
        guard Self.validName(body.name) else { throw BadRequest(message: "invalid hook name \"\(body.name)\": use letters, digits, . _ -") }
        try Self.checkEventType(body.event, allowPattern: true)
        // The script alone first, so a syntax error's line is the script's own.
        for source in [body.script, HookScript.workflowSource(body.script, hook: body.name)] {
            if let problem = WorkflowCheck.syntaxError(in: source, file: body.file ?? body.name) { throw BadRequest(message: problem) }
        }
        // Its top level, in the sandbox: a script with no handler, or one returning something else, is refused now.
        _ = try await check(HookScript.workflowSource(body.script, hook: body.name), file: body.file ?? body.name, workflow: body.name)
        let added = try hooks.add(.init(name: body.name, event: body.event, script: body.script, file: body.file, description: body.description))
        try audit(request, "hook.add", body.name, detail: body.event)
        return .json(wire(added), status: 201)
    }

    func showHook(_ name: String) throws -> ControlAPI.Hook {
        var shown = wire(try hooks.get(name))
        shown.executions = try hooks.executions(name).map(wire)
        return shown
    }

    func removeHook(_ name: String, _ request: ControlRequest) throws -> ControlResponse {
        try hooks.remove(name)
        try audit(request, "hook.remove", name)
        return .json(ControlClient.Empty())
    }

    func hookAction(_ name: String, _ action: String, _ request: ControlRequest) async throws -> ControlResponse {
        if action == "test" { return try await testHook(name, request) }
        let changed = try hooks.setEnabled(name, action == "enable")
        try audit(request, "hook.\(action)", name)
        return .json(wire(changed))
    }

    /// Runs the hook now on a mock event (recorded like any execution) and answers its outcome.
    private func testHook(_ name: String, _ request: ControlRequest) async throws -> ControlResponse {
        let body = try decode(ControlAPI.TestHook.self, request)
        try Self.checkEventType(body.event_type, allowPattern: false)
        let hook = try hooks.get(name)
        let event = EventStore.Event(id: 0, type: body.event_type, at: clock.nowMillis(), runID: nil, stack: nil,
                                     dataJSON: body.data.json)
        let execution = await hookService.execute(hook, event: event)
        try hooks.record(execution)
        try audit(request, "hook.test", name, detail: body.event_type)
        return .json(wire(execution))
    }

    private static func checkEventType(_ type: String, allowPattern: Bool) throws {
        let stem = allowPattern && type.hasSuffix(".*") ? String(type.dropLast(2)) : type
        guard validName(stem) else {
            throw BadRequest(message: "invalid event type \"\(type)\": use letters, digits, . _ -\(allowPattern ? ", or prefix.* for every type under a prefix" : "")")
        }
    }

    func wire(_ hook: HookStore.Hook) -> ControlAPI.Hook {
        ControlAPI.Hook(name: hook.name, event: hook.event, file: hook.file, description: hook.description, enabled: hook.enabled,
                        created_at: time(hook.createdAt), updated_at: time(hook.updatedAt))
    }

    private func wire(_ execution: HookStore.Execution) -> ControlAPI.HookExecution {
        ControlAPI.HookExecution(event_id: execution.eventID, event_type: execution.eventType, run_id: execution.runID, status: execution.status,
                                 error: execution.error, at: time(execution.at), duration: RunDocument.duration(execution.durationMillis))
    }
}

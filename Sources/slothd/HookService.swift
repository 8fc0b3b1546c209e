import Catalog
import Foundation
import Runner
import ServiceLifecycle

/// Dispatches event rows to the hooks that match them (SPEC section 9): one event at a time, oldest
/// first, each matching hook run in a fresh Lua state as a run with trigger `hook`; the executions
/// and the cursor move on in one transaction. A failing hook is recorded, never fatal; events a hook's
/// own run writes are not dispatched.
final class HookService: Sendable {
    let database: CatalogDatabase
    let runner: WorkflowRunner
    let log: DaemonLog
    /// A hook still running after this is cancelled, so one stuck script cannot hold up the rest.
    static let timeout: Duration = .seconds(300)
    static let idlePoll: Duration = .milliseconds(500)

    init(database: CatalogDatabase, runner: WorkflowRunner, log: DaemonLog) {
        (self.database, self.runner, self.log) = (database, runner, log)
    }

    var hooks: HookStore { HookStore(database: database) }

    func run() async {
        while !Task.isCancelled {
            let dispatched = (try? await dispatchPending()) ?? 0
            if dispatched == 0 { try? await Task.sleep(for: Self.idlePoll) }
        }
    }

    /// Returns how many events it handled.
    func dispatchPending() async throws -> Int {
        let pending = try hooks.pending()
        guard !pending.isEmpty else { return 0 }
        let enabled = try hooks.list().filter(\.enabled)
        for item in pending {
            var executions: [HookStore.Execution] = []
            if !item.fromHook {
                for hook in enabled where hook.matches(item.event.type) {
                    executions.append(await execute(hook, event: item.event))
                }
            }
            try hooks.dispatched(event: item.event.id, executions: executions)
        }
        return pending.count
    }

    /// Runs one hook for one event (a real one, or `hook test`'s mock with id nil).
    func execute(_ hook: HookStore.Hook, event: EventStore.Event) async -> HookStore.Execution {
        let started = Date()
        var request = RunRequest(file: hook.file ?? "\(hook.name).lua", source: HookScript.workflowSource(hook.script), trigger: "hook",
                                 stack: event.stack)
        request.hookEvent = LuaTable.record([
            "id": event.id > 0 ? .integer(event.id) : .nil_, "type": .string(event.type), "timestamp": .integer(event.at / 1000),
            "data": (try? LuaJSON.decode(event.dataJSON)) ?? .table(LuaTable()), "stack": event.stack.map(LuaValue.string) ?? .nil_,
            "run_id": event.runID.map(LuaValue.integer) ?? .nil_,
        ])
        let cancellation = RunCancellation()
        let timer = Task {
            try await Task.sleep(for: Self.timeout)
            cancellation.cancel()
        }
        defer { timer.cancel() }
        var execution = HookStore.Execution(hook: hook.name, eventID: event.id > 0 ? event.id : nil, eventType: event.type, runID: nil,
                                            status: "failed", error: nil, at: Int64(started.timeIntervalSince1970 * 1000), durationMillis: 0)
        do {
            let report = try await runner.run(request, cancellation: cancellation)
            execution.runID = report.runID
            execution.status = report.succeeded ? "success" : "failed"
            execution.error = report.error ?? report.tasks.first { $0.error != nil }?.error
        } catch {
            execution.error = "\(error)"
        }
        execution.durationMillis = Int64(Date().timeIntervalSince(started) * 1000)
        if execution.status != "success" { log.error("hook \(hook.name) failed on \(event.type): \(execution.error ?? "unknown error")") }
        return execution
    }
}

/// The hook dispatcher as a service of slothd; it stops with the control socket's shutdown.
struct HookLoop: Service {
    let hooks: HookService

    func run() async throws {
        await cancelWhenGracefulShutdown { await hooks.run() }
    }
}

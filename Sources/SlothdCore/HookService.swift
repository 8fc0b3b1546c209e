import Catalog
import Foundation
import Runner
import Scheduler
import ServiceLifecycle

/// Dispatches event rows to the hooks that match them (SPEC section 9): one event at a time, oldest
/// first; each matching, enabled hook runs in a fresh Lua state as a queued run with trigger `hook`,
/// through the worker pool like every run (so `--workers` bounds hooks too)
/// (so even its file's top level is known to be a hook's), its execution recorded as soon as it ends,
/// and the cursor moves past the event once all have run. A failing hook is recorded, never fatal;
/// events a hook's own run writes are not dispatched.
public final class HookService: Sendable {
    let database: CatalogDatabase
    let pool: WorkerPool
    let log: DaemonLog
    let clock: any SchedulerClock
    /// A hook still running after this many seconds times out, so one stuck script cannot hold up the rest.
    static let timeoutSeconds: Int64 = 300
    /// While idle the dispatcher wakes when this process commits event rows; events other processes
    /// write (`sloth run -f`) are seen within this.
    static let idleCheck: Duration = .seconds(5)
    /// Rung (key 0) after each commit that wrote events.
    private let eventBell = LogBell()

    public init(database: CatalogDatabase, pool: WorkerPool, log: DaemonLog, clock: any SchedulerClock = WallClock()) {
        (self.database, self.pool, self.log, self.clock) = (database, pool, log, clock)
    }

    var hooks: HookStore { HookStore(database: database) }

    func run() async {
        let bell = eventBell
        let watch = EventStore(database: database).watch { bell.ring(0) }
        defer { watch.cancel() }
        var lastProblem: String?
        while !Task.isCancelled {
            let seen = bell.generation
            do {
                if try await dispatchPending() > 0 { continue }
                lastProblem = nil
            } catch {
                let problem = "hooks: cannot dispatch events: \(error)"
                if problem != lastProblem { log.error(problem) }
                lastProblem = problem
            }
            await bell.wait(0, after: seen, upTo: Self.idleCheck)
        }
    }

    /// Returns how many events it finished; stops between hooks when cancelled (the event's remaining
    /// hooks run after the next start).
    func dispatchPending() async throws -> Int {
        let pending = try hooks.pending()
        guard !pending.isEmpty else { return 0 }
        // With no hook enabled, one statement skips every event there is.
        if try !hooks.list().contains(where: \.enabled) {
            try hooks.skipAll()
            return pending.count
        }
        var finished = 0
        for item in pending {
            if !item.fromHook {
                for hook in try hooks.list() where hook.enabled && hook.matches(item.event.type) {
                    if Task.isCancelled { return finished }
                    if try hooks.executed(hook.name, event: item.event.id) { continue }
                    try hooks.record(await execute(hook, event: item.event))
                }
            }
            try hooks.advance(past: item.event.id)
            finished += 1
        }
        return finished
    }

    /// Runs one hook for one event (a recorded one, or `hook test`'s mock with id 0).
    func execute(_ hook: HookStore.Hook, event: EventStore.Event) async -> HookStore.Execution {
        let started = clock.nowMillis()
        var execution = HookStore.Execution(hook: hook.name, eventID: event.id > 0 ? event.id : nil, eventType: event.type, runID: nil,
                                            status: .failed, error: nil, at: started, durationMillis: 0)
        do {
            let report = try await run(hook, event: event, started: &execution)
            execution.status = report.succeeded ? .success : .failed
            execution.error = report.error ?? report.tasks.first { $0.error != nil }?.error
        } catch {
            execution.error = "\(error)"
        }
        execution.durationMillis = clock.nowMillis() - started
        if execution.status != .success { log.error("hook \(hook.name) failed on \(event.type): \(execution.error ?? "unknown error")") }
        return execution
    }

    private func run(_ hook: HookStore.Hook, event: EventStore.Event, started execution: inout HookStore.Execution) async throws -> RunReport {
        // A hook runs in the event's stack while it exists (a stack.deleted hook runs in none).
        let stacks = StackStore(database: database)
        let stack = event.stack.flatMap { name in (try? stacks.require(name)) == nil ? nil : name }
        let place = try pool.reserve()
        let queued: RunStore.Run
        do {
            queued = try RunStore(database: database).queue(.init(workflow: hook.name, workflowVersion: nil, trigger: .hook, file: hook.file))
        } catch {
            pool.release(place)
            throw error
        }
        execution.runID = queued.id
        var request = RunRequest(file: hook.file ?? "\(hook.name).lua", source: HookScript.workflowSource(hook.script, hook: hook.name),
                                 workflow: hook.name, trigger: .hook, stack: stack)
        request.queuedRunID = queued.id
        let data = (try? LuaJSON.decode(event.dataJSON)) ?? .table(LuaTable())
        request.hookEvent = LuaTable.record([
            "id": event.id > 0 ? .integer(event.id) : .nil_, "type": .string(event.type), "timestamp": .integer(event.at / 1000),
            "data": data, "stack": event.stack.map(LuaValue.string) ?? .nil_,
            "run_id": event.runID.map(LuaValue.integer) ?? .nil_,
            "agent": event.type.hasPrefix("agent.") ? agentTable(data) : .nil_,
        ])
        let pool = self.pool, runID = queued.id
        let (ending, ended) = AsyncStream<RunReport?>.makeStream()
        let job = WorkerPool.Job(runID: runID, workflow: hook.name, request: request, queuedAtMillis: clock.nowMillis(),
                                 timeoutSeconds: Self.timeoutSeconds) { report in
            ended.yield(report)
            ended.finish()
        }
        pool.submit(job, using: place)
        let report = await withTaskCancellationHandler {
            var next = ending.makeAsyncIterator()
            return await next.next() ?? nil
        } onCancel: {
            _ = pool.cancel(runID, reason: .shutdown)
        }
        guard let report else { throw HookFailure(message: (try? RunStore(database: database).run(runID))??.error ?? "the hook's run did not run") }
        return report
    }

    struct HookFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// The hook dispatcher as a service of slothd: on shutdown the running hook is cancelled and the
/// dispatch stops between hooks.
public struct HookLoop: Service {
    let hooks: HookService

    public init(hooks: HookService) { self.hooks = hooks }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await hooks.run() }
    }
}

extension HookService {
    /// `event.agent` for `agent.*` events (SPEC section 9): the event's fields, with the agent's tags
    /// and status as the catalog has them.
    fileprivate func agentTable(_ data: LuaValue) -> LuaValue {
        guard let name = data["agent_name"].string else { return .nil_ }
        var fields = data.table?.fields ?? [:]
        fields["name"] = .string(name)
        if let agent = try? AgentStore(database: database).get(name) {
            fields["status"] = .string(agent.status)
            fields["tags"] = .table(LuaTable(fields: agent.tags.mapValues(LuaValue.string)))
            if let version = agent.version { fields["version"] = .string(version) }
        }
        return .table(LuaTable(fields: fields))
    }
}

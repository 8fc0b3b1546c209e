import Catalog
import Control
import Foundation
import Scheduler

/// `/v1/schedules` and `/v1/scheduler`: every input is checked before anything is stored, and the
/// scheduling loop takes each change at once.
extension ControlRouter {
    var schedules: ScheduleStore { ScheduleStore(database: database) }

    func addSchedule(_ request: ControlRequest) async throws -> ControlResponse {
        let body = try decode(ControlAPI.AddSchedule.self, request)
        let now = nowSeconds
        let definition = try ScheduleDefinition.check(
            .init(name: body.name, cron: body.cron, zone: body.tz, overlap: body.overlap, catchup: body.catchup,
                  catchupWindow: body.catchup_window, jitter: body.jitter, timeout: body.timeout),
            hostZone: ZoneRules.host().identifier, now: now)
        let stack = try stackScope(body.stack)
        if !body.tasks.isEmpty { try await checkTasks(body.tasks, of: try workflowToSchedule(body.workflow)) }
        if let agent = body.delegate_to, !Self.validName(agent) {
            throw BadRequest(message: "invalid --delegate-to \"\(agent)\": an agent name uses letters, digits, . _ -")
        }
        let added = try schedules.add(.init(
            name: definition.name, workflow: body.workflow, cron: body.cron, zone: definition.zoneName, tasks: body.tasks,
            params: body.params, overlap: definition.overlap.rawValue, catchup: definition.catchup.rawValue,
            catchupWindowSeconds: definition.catchupWindowSeconds, jitterSeconds: definition.jitterSeconds,
            timeoutSeconds: definition.timeoutSeconds,
            description: body.description, enabled: !body.disabled, cursor: now, stack: stack, delegateTo: body.delegate_to))
        try await scheduler.reload(added.name)
        try audit(request, "schedule.add", added.name, detail: body.cron)
        return .json(try await wire(added), status: 201)
    }

    func listSchedules(after: String? = nil, limit: Int? = nil) async throws -> [ControlAPI.Schedule] {
        let listed = try schedules.list(after: after, limit: limit)
        let names = listed.map(\.name)
        let live = await scheduler.listing(names), last = try runs.lastRuns(schedules: names)
        return listed.map { wire($0, next: live[$0.name]?.nextMillis, health: live[$0.name]?.health ?? ScheduleCounters(), last: last[$0.name]) }
    }

    func showSchedule(_ name: String, next count: Int) async throws -> ControlAPI.Schedule {
        let schedule = try schedules.get(name)
        var shown = try await wire(schedule)
        shown.next = nextFires(schedule, count: count)
        shown.recent_runs = try wire(runs.list(.init(schedule: name, limit: 10)))
        return shown
    }

    /// The schedule's next `count` fires (at most 1,000) from now, in its zone; nil if it does not parse.
    func nextFires(_ schedule: ScheduleStore.Schedule, count: Int) -> [String]? {
        guard let rules = try? ScheduleService.rules(schedule) else { return nil }
        return rules.schedule.nextFires(after: max(schedule.cursor, nowSeconds), in: rules.zone, count: max(0, min(count, 1000)))
            .map { RFC3339.format($0, in: rules.zone) }
    }

    func removeSchedule(_ name: String, _ request: ControlRequest) async throws -> ControlResponse {
        try schedules.remove(name)
        await scheduler.removed(name)
        try audit(request, "schedule.remove", name)
        return .json(ControlClient.Empty())
    }

    func scheduleAction(_ name: String, _ action: String, _ request: ControlRequest) async throws -> ControlResponse {
        if action == "trigger" {
            _ = try schedules.get(name)
            let id = try await scheduler.trigger(name)
            try audit(request, "schedule.trigger", name, detail: "run \(id)")
            guard let run = try runs.run(id) else { throw BadRequest(status: 500, code: "internal", message: "run \(id) vanished") }
            return .json(try wire(run), status: 202)
        }
        let body = request.body.isEmpty ? ControlAPI.SetEnabled(note: nil) : try decode(ControlAPI.SetEnabled.self, request)
        let changed = try schedules.setEnabled(name, action == "enable", note: body.note, cursor: nowSeconds)
        try await scheduler.reload(name)
        try audit(request, "schedule.\(action)", name, detail: body.note)
        return .json(try await wire(changed))
    }

    func switchScheduler(_ enabled: Bool, _ request: ControlRequest) async throws -> ControlResponse {
        let body = request.body.isEmpty ? ControlAPI.SetEnabled(note: nil) : try decode(ControlAPI.SetEnabled.self, request)
        try await scheduler.setPaused(!enabled, note: body.note)
        try audit(request, enabled ? "scheduler.enable" : "scheduler.disable", "scheduler", detail: body.note)
        return .json(await status())
    }

    // MARK: pieces

    /// The workflow a new schedule names: unknown is the same refusal the store gives.
    private func workflowToSchedule(_ name: String) throws -> WorkflowStore.Workflow {
        do {
            return try workflows.get(name)
        } catch .unknown {
            throw ScheduleStore.Error.unknownWorkflow(name)
        }
    }

    func wire(_ schedule: ScheduleStore.Schedule) async throws -> ControlAPI.Schedule {
        wire(schedule, next: await scheduler.nextStartMillis(schedule.name), health: await scheduler.health(schedule.name),
             last: try runs.list(.init(schedule: schedule.name, limit: 1)).first)
    }

    private func wire(_ schedule: ScheduleStore.Schedule, next: Int64?, health: ScheduleCounters, last: RunStore.Run?) -> ControlAPI.Schedule {
        var wired = ControlAPI.Schedule(
            name: schedule.name, workflow: schedule.workflow, cron: schedule.cron, tz: schedule.zone, enabled: schedule.enabled,
            overlap: schedule.overlap, catchup: schedule.catchup, catchup_window: CronDuration.text(seconds: schedule.catchupWindowSeconds),
            tasks: schedule.tasks, params: schedule.params, fired: schedule.fired, skipped: schedule.skipped, missed: schedule.missed)
        wired.next_at = next.map(time)
        (wired.blocked, wired.lag_seconds) = (health.blocked, health.lagSeconds)
        if let last {
            wired.last_at = time(last.startedAt ?? last.nominalAt.map { $0 * 1000 } ?? last.queuedAt)
            wired.last_state = last.state.rawValue
        }
        wired.jitter = schedule.jitterSeconds > 0 ? CronDuration.text(seconds: schedule.jitterSeconds) : nil
        wired.timeout = schedule.timeoutSeconds.map(CronDuration.text(seconds:))
        (wired.description, wired.note, wired.stack, wired.delegate_to) = (schedule.description, schedule.note, schedule.stack, schedule.delegateTo)
        return wired
    }
}

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
        guard Self.validName(body.name) else { throw BadRequest(message: "invalid schedule name \"\(body.name)\": use letters, digits, . _ -") }
        let expression: CronExpression
        do {
            expression = try CronExpression(parsing: body.cron)
        } catch {
            throw BadRequest(message: "invalid cron expression \"\(body.cron)\": \(error)")
        }
        if let prefixed = expression.zoneName, let tz = body.tz, tz != prefixed {
            throw BadRequest(message: "the expression names zone \(prefixed) but --tz says \(tz): give one")
        }
        let zoneName = expression.zoneName ?? body.tz ?? ZoneRules.host().identifier
        let zone: ZoneRules
        do {
            zone = try ZoneRules.named(zoneName)
        } catch {
            // ZoneRules' message names the zone file looked for, or why a damaged one is refused.
            throw BadRequest(message: "\(error)")
        }
        let now = nowSeconds
        // @reboot fires at each start of slothd (ScheduleService.start), never from the calendar.
        guard expression.schedule == .reboot || expression.schedule.nextFire(after: now, in: zone) != nil else {
            throw BadRequest(message: "\"\(body.cron)\" never fires (no such date from now on)")
        }
        let overlap = try choice(OverlapPolicy.self, body.overlap, default: .skip, option: "overlap")
        let catchup = try choice(CatchupPolicy.self, body.catchup, default: .latest, option: "catchup")
        let window = try duration(body.catchup_window, option: "catchup-window") ?? ScheduleRules.defaultCatchupWindowSeconds
        let stack = try stackScope(body.stack)
        if !body.tasks.isEmpty { try await checkTasks(body.tasks, of: try workflowToSchedule(body.workflow)) }
        if let agent = body.delegate_to, !Self.validName(agent) {
            throw BadRequest(message: "invalid --delegate-to \"\(agent)\": an agent name uses letters, digits, . _ -")
        }
        let added = try schedules.add(.init(
            name: body.name, workflow: body.workflow, cron: body.cron, zone: zoneName, tasks: body.tasks, params: body.params,
            overlap: overlap.rawValue, catchup: catchup.rawValue, catchupWindowSeconds: window,
            jitterSeconds: try duration(body.jitter, option: "jitter") ?? 0, timeoutSeconds: try duration(body.timeout, option: "timeout"),
            description: body.description, enabled: !body.disabled, cursor: now, stack: stack, delegateTo: body.delegate_to))
        try await scheduler.reload(added.name)
        try audit(request, "schedule.add", added.name, detail: body.cron)
        return .json(try await wire(added), status: 201)
    }

    func listSchedules() async throws -> [ControlAPI.Schedule] {
        var listed: [ControlAPI.Schedule] = []
        for schedule in try schedules.list() { listed.append(try await wire(schedule)) }
        return listed
    }

    func showSchedule(_ name: String, next count: Int) async throws -> ControlAPI.Schedule {
        let schedule = try schedules.get(name)
        var shown = try await wire(schedule)
        if let rules = try? ScheduleService.rules(schedule) {
            let from = max(schedule.cursor, nowSeconds)
            shown.next = rules.schedule.nextFires(after: from, in: rules.zone, count: max(0, min(count, 1000)))
                .map { RFC3339.format($0, in: rules.zone) }
        }
        shown.recent_runs = try wire(runs.list(.init(schedule: name, limit: 10)))
        return shown
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
        var wired = ControlAPI.Schedule(
            name: schedule.name, workflow: schedule.workflow, cron: schedule.cron, tz: schedule.zone, enabled: schedule.enabled,
            overlap: schedule.overlap, catchup: schedule.catchup, catchup_window: CronDuration.text(seconds: schedule.catchupWindowSeconds),
            tasks: schedule.tasks, params: schedule.params, fired: schedule.fired, skipped: schedule.skipped, missed: schedule.missed)
        wired.next_at = await scheduler.nextStartMillis(schedule.name).map(time)
        let health = await scheduler.health(schedule.name)
        (wired.blocked, wired.lag_seconds) = (health.blocked, health.lagSeconds)
        if let last = try runs.list(.init(schedule: schedule.name, limit: 1)).first {
            wired.last_at = time(last.startedAt ?? last.nominalAt.map { $0 * 1000 } ?? last.queuedAt)
            wired.last_state = last.state.rawValue
        }
        wired.jitter = schedule.jitterSeconds > 0 ? CronDuration.text(seconds: schedule.jitterSeconds) : nil
        wired.timeout = schedule.timeoutSeconds.map(CronDuration.text(seconds:))
        (wired.description, wired.note, wired.stack, wired.delegate_to) = (schedule.description, schedule.note, schedule.stack, schedule.delegateTo)
        return wired
    }

    private func choice<Policy: RawRepresentable & CaseIterable>(_ type: Policy.Type, _ text: String?, default fallback: Policy,
                                                                  option: String) throws -> Policy where Policy.RawValue == String {
        guard let text else { return fallback }
        guard let policy = Policy(rawValue: text) else {
            throw BadRequest(message: "invalid --\(option) \"\(text)\": use one of \(Policy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return policy
    }

    private func duration(_ text: String?, option: String) throws -> Int64? {
        guard let text else { return nil }
        do {
            return try CronDuration.seconds(parsing: text)
        } catch {
            throw BadRequest(message: "invalid --\(option) \"\(text)\": \(error)")
        }
    }
}

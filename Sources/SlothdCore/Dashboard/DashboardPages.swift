import Catalog
import Control
import Foundation
import Scheduler

/// The pages other than runs: each reads what the matching `/v1` route reads.
extension Dashboard {
    typealias Badge = DashboardViews.Badge
    typealias Stamp = DashboardViews.Stamp

    func overview(_ context: PageContext) async throws -> ControlResponse {
        struct Fire { var at: Stamp?; var left: String; var schedule: String; var workflow: String; var tz: String; var millis: Int64 }
        struct Failure { var id: Int64; var state: Badge; var workflow: String; var schedule: String?; var ended: Stamp?; var error: String? }
        struct Running { var id: Int64; var workflow: String; var started: Stamp? }
        struct Agent { var name: String; var state: Badge }
        struct View {
            var scheduler: Badge; var note: String?; var toggle: String; var toggleLabel: String; var csrf: String
            var queued: Int; var capacity: Int; var busy: Int; var workers: Int; var running: [Running]; var agents: [Agent]
            var next: [Fire]; var failures: [Failure]
        }
        let router = context.router, now = context.nowMillis
        let status = await router.status()
        let paused = status.scheduler == "paused"
        // The ten schedules due soonest hold the next ten fires; each gives its own next ten.
        var fires: [Fire] = []
        for (name, _) in await router.scheduler.soonest(10) {
            let schedule = try router.schedules.get(name)
            for at in router.nextFires(schedule, count: 10) ?? [] {
                let millis = RFC3339.millis(at) ?? 0
                fires.append(Fire(at: DashboardViews.stamp(at), left: HumanText.relative(millis, from: now), schedule: name,
                                  workflow: schedule.workflow, tz: schedule.zone, millis: millis))
            }
        }
        let failed = try router.runs.list(.init(state: .failed, limit: 10)) + router.runs.list(.init(state: .timedOut, limit: 10))
        let failures = try router.wire(Array(failed.sorted { $0.id > $1.id }.prefix(10))).map {
            Failure(id: $0.id, state: DashboardViews.badge($0.state.rawValue), workflow: $0.workflow, schedule: $0.schedule,
                    ended: DashboardViews.stamp($0.ended_at), error: $0.error)
        }
        let view = View(scheduler: DashboardViews.badge(paused ? "paused" : "on"), note: status.scheduler_note, toggle: paused ? "resume" : "pause",
                        toggleLabel: paused ? "Resume the scheduler" : "Pause the scheduler", csrf: context.csrf,
                        queued: status.queued, capacity: status.queue_capacity, busy: status.busy_workers, workers: status.workers,
                        running: (status.running ?? []).map { Running(id: $0.id, workflow: $0.workflow, started: DashboardViews.stamp($0.started_at)) },
                        agents: try router.listAgents().map { Agent(name: $0.name, state: DashboardViews.badge($0.status)) },
                        next: Array(fires.sorted { $0.millis < $1.millis }.prefix(10)), failures: failures)
        return context.page("Overview", "overview", view, section: "/")
    }

    struct ScheduleRow {
        var name: String; var workflow: String; var cron: String; var tz: String; var stack: String?
        var next: Stamp?; var left: String?; var last: Stamp?; var passed: String?
        var result: Badge?; var state: Badge; var toggle: String; var toggleLabel: String; var back: String
    }

    static func scheduleRow(_ schedule: ControlAPI.Schedule, now: Int64, back: String) -> ScheduleRow {
        ScheduleRow(name: schedule.name, workflow: schedule.workflow, cron: schedule.cron, tz: schedule.tz, stack: schedule.stack,
                    next: schedule.enabled ? DashboardViews.stamp(schedule.next_at) : nil,
                    left: schedule.enabled ? schedule.next_at.flatMap(RFC3339.millis).map { HumanText.relative($0, from: now) } : nil,
                    last: DashboardViews.stamp(schedule.last_at),
                    passed: schedule.last_at.flatMap(RFC3339.millis).map { HumanText.relative($0, from: now) },
                    result: schedule.last_state.map(DashboardViews.badge), state: DashboardViews.badge(schedule.enabled ? "on" : "paused"),
                    toggle: schedule.enabled ? "pause" : "resume", toggleLabel: schedule.enabled ? "Pause" : "Resume", back: back)
    }

    /// A page of schedules by name (`?after=NAME` for the next): a thousand rows of forms would be half a megabyte.
    func schedules(_ context: PageContext) async throws -> ControlResponse {
        struct View { var rows: [ScheduleRow]; var csrf: String; var more: String? }
        let after = DashboardViews.nonEmpty(context.request.query["after"])
        let back = "/schedules" + (after.map { "?after=" + DashboardViews.queryValue($0) } ?? "")
        let listed = try await context.router.listSchedules(after: after, limit: Self.schedulePageSize)
        let more = listed.count == Self.schedulePageSize ? listed.last.map { "/schedules?after=" + DashboardViews.queryValue($0.name) } : nil
        let rows = listed.map { Self.scheduleRow($0, now: context.nowMillis, back: back) }
        return context.page("Schedules", "schedules", View(rows: rows, csrf: context.csrf, more: more), section: "/schedules")
    }

    static let schedulePageSize = 50

    func schedule(_ name: String, _ context: PageContext) async throws -> ControlResponse {
        struct Fact { var name: String; var value: String }
        struct Fire { var at: Stamp?; var left: String; var note: String? }
        struct View {
            var row: ScheduleRow; var csrf: String; var tz: String; var description: String?; var note: String?
            var facts: [Fact]; var fires: [Fire]; var runs: [DashboardViews.RunRow]
        }
        let shown = try await context.router.showSchedule(name, next: 10)
        var fires: [Fire] = [], previousOffset: Substring?
        for at in shown.next ?? [] {
            let offset = at.suffix(6)
            let note = previousOffset.flatMap { $0 == offset ? nil : "UTC offset changes \($0) → \(offset) (daylight saving)" }
            fires.append(Fire(at: DashboardViews.stamp(at), left: HumanText.relative(RFC3339.millis(at) ?? 0, from: context.nowMillis), note: note))
            previousOffset = offset
        }
        let facts = [("overlap", shown.overlap), ("catch-up", shown.catchup), ("catch-up window", shown.catchup_window),
                     ("jitter", shown.jitter ?? "none"), ("timeout", shown.timeout ?? "none"), ("fired", String(shown.fired)),
                     ("skipped", String(shown.skipped)), ("missed", String(shown.missed)), ("refused", String(shown.blocked ?? 0)),
                     ("late by", shown.lag_seconds.map { HumanText.duration(millis: $0 * 1000) } ?? "on time")].map { Fact(name: $0.0, value: $0.1) }
        let view = View(row: Self.scheduleRow(shown, now: context.nowMillis, back: "/schedules/\(name)"), csrf: context.csrf, tz: shown.tz,
                        description: shown.description, note: shown.note, facts: facts, fires: fires,
                        runs: (shown.recent_runs ?? []).map(DashboardViews.runRow))
        return context.page("Schedule \(name)", "schedule", view, section: "/schedules")
    }

    func workflows(_ context: PageContext) throws -> ControlResponse {
        struct Row { var name: String; var version: Int; var state: Badge; var updated: Stamp?; var usage: Int; var description: String? }
        struct View { var rows: [Row] }
        let rows = try context.router.workflows.list().map {
            Row(name: $0.name, version: $0.version, state: DashboardViews.badge($0.active ? "active" : "inactive"),
                updated: DashboardViews.stamp(context.router.time($0.updatedAt)), usage: $0.usageCount, description: $0.description)
        }
        return context.page("Workflows", "workflows", View(rows: rows), section: "/workflows")
    }

    func workflow(_ name: String, _ context: PageContext) throws -> ControlResponse {
        struct Version { var version: Int; var sha: String; var file: String?; var created: Stamp?; var previous: Int?; var shown: Bool }
        struct Numbered { var number: Int; var text: String }
        struct Source { var version: Int; var lines: [Numbered] }
        struct DiffLine { var kind: String; var old: Int?; var new: Int?; var mark: String; var text: String }
        struct Diff { var from: Int; var to: Int; var lines: [DiffLine] }
        struct View { var name: String; var state: Badge; var description: String?; var versions: [Version]; var source: Source?; var diff: Diff?; var tooLarge: Bool }
        let store = context.router.workflows
        let found = try store.get(name, content: false)
        let query = context.request.query
        let shownVersion = query["version"].flatMap(Int.init) ?? found.version
        let versions = try store.history(name).map {
            Version(version: $0.version, sha: String($0.sha256.prefix(12)), file: $0.filePath, created: DashboardViews.stamp(context.router.time($0.createdAt)),
                    previous: $0.version > 1 ? $0.version - 1 : nil, shown: $0.version == shownVersion)
        }
        var diff: Diff?, source: Source?, tooLarge = false
        if let from = query["from"].flatMap(Int.init), let to = query["to"].flatMap(Int.init) {
            guard let old = try store.source(name, version: from), let new = try store.source(name, version: to) else {
                throw ControlRouter.BadRequest(status: 404, code: "not_found", message: "workflow \(name) has no version \(from) or \(to)")
            }
            if let lines = LineDiff.lines(from: old, to: new) {
                diff = Diff(from: from, to: to, lines: lines.map {
                    DiffLine(kind: $0.kind.rawValue, old: $0.old, new: $0.new, mark: ["kept": " ", "removed": "-", "added": "+"][$0.kind.rawValue] ?? " ", text: $0.text)
                })
            } else {
                tooLarge = true
            }
        } else if let text = try store.source(name, version: shownVersion) {
            source = Source(version: shownVersion, lines: text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map {
                Numbered(number: $0.offset + 1, text: String($0.element))
            })
        }
        let view = View(name: name, state: DashboardViews.badge(found.active ? "active" : "inactive"), description: found.description,
                        versions: versions, source: source, diff: diff, tooLarge: tooLarge)
        return context.page("Workflow \(name)", "workflow", view, section: "/workflows")
    }

    func agents(_ context: PageContext) throws -> ControlResponse {
        struct Row { var name: String; var state: Badge; var address: String?; var running: Int; var seen: Stamp?; var version: String?; var tags: String }
        struct View { var rows: [Row] }
        let rows = try context.router.listAgents().map {
            Row(name: $0.name, state: DashboardViews.badge($0.status), address: $0.address, running: $0.running, seen: DashboardViews.stamp($0.last_seen),
                version: $0.version, tags: $0.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        return context.page("Agents", "agents", View(rows: rows), section: "/agents")
    }

    func stacks(_ context: PageContext) throws -> ControlResponse {
        struct Row { var name: String; var state: Badge; var runs: Int; var secrets: Int; var last: Badge?; var description: String? }
        struct View { var rows: [Row] }
        let router = context.router
        let rows = try router.stacks.list().map(router.wire).map {
            Row(name: $0.name, state: DashboardViews.badge($0.active ? "active" : "inactive"), runs: $0.runs, secrets: $0.secrets,
                last: $0.last_run?.state.map(DashboardViews.badge), description: $0.description)
        }
        return context.page("Stacks", "stacks", View(rows: rows), section: "/stacks")
    }

    func stack(_ name: String, _ context: PageContext) throws -> ControlResponse {
        struct Value { var key: String; var value: String }
        struct Secret { var name: String; var updated: Stamp? }
        struct View { var name: String; var state: Badge; var description: String?; var values: [Value]; var secrets: [Secret]; var runs: [DashboardViews.RunRow] }
        let router = context.router
        let shown = try router.showStack(name)
        let secrets = try router.secrets.list(stack: name).filter { $0.stack == name }.map {
            Secret(name: $0.name, updated: DashboardViews.stamp(router.time($0.updatedAt)))
        }
        let view = View(name: name, state: DashboardViews.badge(shown.active ? "active" : "inactive"), description: shown.description,
                        values: shown.values.sorted { $0.key < $1.key }.map { Value(key: $0.key, value: $0.value.json) }, secrets: secrets,
                        runs: (shown.recent_runs ?? []).map(DashboardViews.runRow))
        return context.page("Stack \(name)", "stack", view, section: "/stacks")
    }

    func events(_ context: PageContext) throws -> ControlResponse {
        struct Row { var id: Int64; var type: String; var at: Stamp?; var run: Int64?; var stack: String? }
        struct View { var type: String; var rows: [Row] }
        let type = DashboardViews.nonEmpty(context.request.query["type"])
        let rows = try context.router.events.list(type: type, limit: 100).map {
            Row(id: $0.id, type: $0.type, at: DashboardViews.stamp(context.router.time($0.at)), run: $0.runID, stack: $0.stack)
        }
        return context.page("Events", "events", View(type: type ?? "", rows: rows), section: "/events")
    }

    func event(_ id: String, _ context: PageContext) throws -> ControlResponse {
        struct Execution { var hook: String; var state: Badge; var at: Stamp?; var duration: String; var error: String? }
        struct View { var type: String; var at: Stamp?; var run: Int64?; var stack: String?; var data: String; var executions: [Execution] }
        let router = context.router
        guard let number = Int64(id), let found = try router.events.get(number) else {
            throw ControlRouter.BadRequest(status: 404, code: "not_found", message: "no event \(id)")
        }
        let executions = try router.hooks.executions(event: number).map {
            Execution(hook: $0.hook, state: DashboardViews.badge($0.status.rawValue), at: DashboardViews.stamp(router.time($0.at)),
                      duration: HumanText.duration(millis: $0.durationMillis), error: $0.error)
        }
        let view = View(type: found.type, at: DashboardViews.stamp(router.time(found.at)), run: found.runID, stack: found.stack,
                        data: found.dataJSON, executions: executions)
        return context.page("Event #\(number)", "event", view, section: "/events")
    }
}

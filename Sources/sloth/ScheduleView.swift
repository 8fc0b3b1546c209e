import Control
import Foundation
import Scheduler

/// How schedules print: `list` like `systemctl list-timers`, `show` as settings then fire times and runs.
enum ScheduleView {
    /// SPEC section 4's `scheduler list -o json` element.
    struct Listed: Codable {
        var name, workflow, cron, tz: String
        var enabled: Bool
        var overlap, catchup: String
        var next_at, last_at, last_state: String?
    }

    static func listed(_ schedule: ControlAPI.Schedule) -> Listed {
        Listed(name: schedule.name, workflow: schedule.workflow, cron: schedule.cron, tz: schedule.tz, enabled: schedule.enabled,
               overlap: schedule.overlap, catchup: schedule.catchup, next_at: schedule.next_at, last_at: schedule.last_at,
               last_state: schedule.last_state)
    }

    /// As `systemctl list-timers` sorts: by next fire, soonest first; then `@reboot` ones (next at the
    /// daemon's start), then enabled ones that never fire again, then disabled ones; by name within each.
    static func ordered(_ schedules: [ControlAPI.Schedule]) -> [ControlAPI.Schedule] {
        func key(_ schedule: ControlAPI.Schedule) -> (Int, Int64, String) {
            if !schedule.enabled { return (3, 0, schedule.name) }
            if let next = instant(schedule.next_at) { return (0, next, schedule.name) }
            return (atStart(schedule) ? 1 : 2, 0, schedule.name)
        }
        return schedules.sorted { key($0) < key($1) }
    }

    /// The list with every time in one zone (`--utc`, else `$TZ` or the host's), which the footer names.
    static func table(_ schedules: [ControlAPI.Schedule], now: Int64, zone: ZoneRules) -> String {
        let header = ["NEXT", "LEFT", "LAST", "PASSED", "SCHEDULE", "WORKFLOW", "RESULT", "STATE"]
        let rows = ordered(schedules).map { schedule in
            [atStart(schedule) && schedule.enabled ? "at slothd start" : wall(schedule.next_at, in: zone),
             relative(schedule.next_at, now: now, future: true), wall(schedule.last_at, in: zone),
             relative(schedule.last_at, now: now, future: false), schedule.name, schedule.workflow, schedule.last_state ?? "-",
             state(schedule)]
        }
        return TextTable.render([header] + rows) + "\n\(schedules.count) schedule(s) listed; times in \(zone.identifier).\n"
    }

    /// `2026-03-08 03:00:00`: an RFC 3339 time from slothd as a wall reading in `zone`.
    static func wall(_ time: String?, in zone: ZoneRules) -> String {
        guard let instant = instant(time) else { return "-" }
        return String(RFC3339.format(instant, in: zone).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    private static func instant(_ time: String?) -> Int64? {
        guard let time, case .instant(let instant)? = try? RFC3339.parse(time) else { return nil }
        return instant
    }

    /// `@reboot`: fires at each start of slothd, never from the calendar.
    static func atStart(_ schedule: ControlAPI.Schedule) -> Bool {
        (try? CronExpression(parsing: schedule.cron))?.schedule == .reboot
    }

    static func show(_ schedule: ControlAPI.Schedule, _ output: OutputFormat) throws {
        if output == .json {
            print(try JSONOutput.encode(schedule))
            return
        }
        let rows = [
            ["NAME", schedule.name], ["WORKFLOW", schedule.workflow], ["CRON", schedule.cron], ["ZONE", schedule.tz],
            ["STATE", state(schedule)], ["OVERLAP", schedule.overlap], ["CATCHUP", "\(schedule.catchup) within \(schedule.catchup_window)"],
            ["JITTER", schedule.jitter ?? "none"], ["TIMEOUT", schedule.timeout ?? "none"],
            ["TASKS", schedule.tasks.isEmpty ? "all" : schedule.tasks.joined(separator: ", ")],
            ["PARAMS", schedule.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")],
            ["DESCRIPTION", schedule.description ?? ""], ["DELEGATE TO", schedule.delegate_to ?? "-"],
            ["NEXT", atStart(schedule) ? "at each start of slothd" : schedule.next_at ?? "-"], ["LAST", schedule.last_at ?? "-"],
            ["COUNTS", "\(schedule.fired) fired, \(schedule.skipped) skipped, \(schedule.missed) missed"
                + (schedule.blocked.map { ", \($0) blocked since slothd started" } ?? "")],
            ["LAG", schedule.lag_seconds.map { $0 > 0 ? "\($0) s overdue" : "on time" } ?? "-"],
        ]
        print(TextTable.render(rows), terminator: "")
        if let next = schedule.next, !next.isEmpty {
            print("\nNext fire times:")
            next.forEach { print("  " + $0) }
        }
        if let runs = schedule.recent_runs {
            print("\nRecent runs:")
            let table = [["ID", "STATE", "TRIGGER", "NOMINAL", "STARTED", "ERROR"]] + runs.map {
                [String($0.id), $0.state.rawValue, $0.trigger.rawValue, $0.nominal_at ?? "-", $0.started_at ?? "-", $0.error ?? ""]
            }
            print(TextTable.render(table), terminator: "")
        }
    }

    static func switchEnabled(_ name: String?, enabled: Bool, note: String?, _ connection: WorkflowCommand.Connection) throws {
        let verb = enabled ? "enable" : "disable"
        guard let name else {
            let status: ControlAPI.Status = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/scheduler/\(verb)", ControlAPI.SetEnabled(note: note))
            }
            if connection.output == .json { print(try JSONOutput.encode(status)) } else { print("scheduler \(status.scheduler)") }
            return
        }
        let changed: ControlAPI.Schedule = try daemonCall { () throws(ControlClient.Error) in
            try connection.client.post("/schedules/\(name)/\(verb)", ControlAPI.SetEnabled(note: note))
        }
        try show(changed, connection.output)
    }

    private static func state(_ schedule: ControlAPI.Schedule) -> String {
        schedule.enabled ? "enabled" : "disabled" + (schedule.note.map { " (\($0))" } ?? "")
    }

    /// `4min 12s left` style, as systemd prints it: the two largest units.
    static func relative(_ time: String?, now: Int64, future: Bool) -> String {
        guard let instant = instant(time) else { return "-" }
        var seconds = max(0, future ? instant - now : now - instant)
        var parts: [String] = []
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("min", 60), ("s", 1)] where seconds >= size || (unit == "s" && parts.isEmpty) {
            parts.append("\(seconds / size)\(unit)")
            seconds %= size
            if parts.count == 2 { break }
        }
        return parts.joined(separator: " ") + (future ? " left" : " ago")
    }
}

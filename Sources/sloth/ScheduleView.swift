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

    static func table(_ schedules: [ControlAPI.Schedule], now: Int64) -> String {
        let header = ["NEXT", "LEFT", "LAST", "PASSED", "SCHEDULE", "WORKFLOW", "RESULT", "STATE"]
        let rows = schedules.map { schedule in
            [schedule.next_at ?? "-", relative(schedule.next_at, now: now, future: true), schedule.last_at ?? "-",
             relative(schedule.last_at, now: now, future: false), schedule.name, schedule.workflow, schedule.last_state ?? "-",
             state(schedule)]
        }
        return TextTable.render([header] + rows) + "\n\(schedules.count) schedule(s) listed.\n"
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
            ["DESCRIPTION", schedule.description ?? ""], ["NEXT", schedule.next_at ?? "-"], ["LAST", schedule.last_at ?? "-"],
            ["COUNTS", "\(schedule.fired) fired, \(schedule.skipped) skipped, \(schedule.missed) missed"],
        ]
        print(TextTable.render(rows), terminator: "")
        if let next = schedule.next, !next.isEmpty {
            print("\nNext fire times:")
            next.forEach { print("  " + $0) }
        }
        if let runs = schedule.recent_runs {
            print("\nRecent runs:")
            let table = [["ID", "STATE", "TRIGGER", "NOMINAL", "STARTED", "ERROR"]] + runs.map {
                [String($0.id), $0.state, $0.trigger, $0.nominal_at ?? "-", $0.started_at ?? "-", $0.error ?? ""]
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
        guard let time, case .instant(let instant)? = try? RFC3339.parse(time) else { return "-" }
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

import Control
import Runner
import Scheduler

/// `sloth runs show ID`: what a run was, when it ran (for a scheduled run, how late), how it ended,
/// and its task table.
struct RunView {
    let run: ControlAPI.Run

    func render() -> String {
        var rows = [["RUN", String(run.id)], ["WORKFLOW", workflow], ["STATE", run.state.rawValue], ["TRIGGER", run.trigger.rawValue]]
        if let schedule = run.schedule { rows.append(["SCHEDULE", schedule]) }
        if let stack = run.stack { rows.append(["STACK", stack]) }
        rows.append(["QUEUED", run.queued_at])
        if let nominal = run.nominal_at { rows.append(["NOMINAL", nominal]) }
        if let started = run.started_at { rows.append(["STARTED", started + lateness(started)]) }
        if let ended = run.ended_at { rows.append(["ENDED", ended]) }
        if let duration { rows.append(["DURATION", RunDocument.duration(duration)]) }
        if let error = run.error { rows.append(["ERROR", TaskTable.oneLine(error)]) }
        return TextTable.render(rows) + "\n" + TaskTable(run).render()
    }

    /// `backup (catalog version 3, declares 1.2.0)`; a file run has no catalog version.
    private var workflow: String {
        let version = run.workflow_version.map { "catalog version \($0)" } ?? "not from the catalog"
        return "\(run.workflow) (\(version)" + (run.declared_version.map { ", declares \($0)" } ?? "") + ")"
    }

    /// Milliseconds from start to end, once both are known.
    var duration: Int64? {
        guard let start = run.started_at.flatMap(RFC3339.millis), let end = run.ended_at.flatMap(RFC3339.millis) else { return nil }
        return end - start
    }

    /// ` (0.412s after its nominal time)` for a scheduled run.
    private func lateness(_ started: String) -> String {
        guard let nominal = run.nominal_at.flatMap(RFC3339.millis), let start = RFC3339.millis(started) else { return "" }
        return " (\(RunDocument.duration(max(0, start - nominal))) after its nominal time)"
    }
}

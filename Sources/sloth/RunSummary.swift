import Runner

/// Human output of `sloth run`: the workflow's outcome, then one row per task.
struct RunSummary {
    let report: RunReport

    func render() -> String {
        var rows = [["TASK", "STATUS", "DURATION", "DETAIL"]]
        for task in report.tasks {
            rows.append([task.name, task.status, RunDocument.duration(task.durationMillis), task.error ?? task.message ?? ""])
        }
        let headline = "workflow \(report.workflow): \(report.succeeded ? "success" : "failed") in "
            + "\(RunDocument.duration(report.durationMillis)) (run \(report.runID))"
            + (report.error.map { ": \($0)" } ?? "")
        return headline + "\n" + TextTable.render(rows)
    }
}

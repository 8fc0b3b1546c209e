import Runner

/// Human output of `sloth run -f`: the workflow's outcome, then the task table.
struct RunSummary {
    let report: RunReport

    func render() -> String {
        let headline = "workflow \(report.workflow): \(report.succeeded ? "success" : "failed") in "
            + "\(RunDocument.duration(report.durationMillis)) (run \(report.runID))"
            + (report.error.map { ": \(TaskTable.oneLine($0))" } ?? "")
        return headline + "\n" + TaskTable(report).render()
    }
}

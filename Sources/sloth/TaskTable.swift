import Foundation
import Catalog
import Control
import Runner

/// The task table `sloth run` ends with and `sloth runs show` prints: one row per task, its error on
/// one short line (the whole text is in the run's log).
struct TaskTable {
    struct Row {
        var name: String
        var status: String
        var durationMillis: Int64?
        var detail: String?
        /// The agent a delegated task ran on.
        var agent: String? = nil
    }

    let rows: [Row]

    init(_ report: RunReport) {
        rows = report.tasks.map {
            Row(name: $0.name, status: $0.status.rawValue, durationMillis: $0.durationMillis,
                detail: $0.error ?? ($0.status == .success ? nil : $0.message), agent: $0.agent)
        }
    }

    /// In the order the run's tasks were recorded, which the daemon's object loses: by start, then name.
    init(_ run: ControlAPI.Run) {
        rows = run.tasks.sorted { ($0.value.started_at ?? "~", $0.key) < ($1.value.started_at ?? "~", $1.key) }.map {
            Row(name: $0.key, status: $0.value.status.rawValue, durationMillis: $0.value.duration_ms, detail: $0.value.error,
                agent: $0.value.agent)
        }
    }

    func render() -> String {
        guard !rows.isEmpty else { return "no task ran\n" }
        // The AGENT column appears when a task was delegated, so local runs read as before.
        let delegated = rows.contains { $0.agent != nil }
        return TextTable.render([["TASK", "STATUS", "DURATION"] + (delegated ? ["AGENT"] : []) + ["ERROR"]] + rows.map {
            [$0.name, $0.status, $0.durationMillis.map(RunDocument.duration) ?? "-"] + (delegated ? [$0.agent ?? "-"] : [])
                + [$0.detail.map(Self.oneLine) ?? ""]
        })
    }

    static let detailCharacters = 200

    /// The first line of `text`, at most `detailCharacters` long.
    static func oneLine(_ text: String) -> String {
        let first = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let more = first.count < text.trimmingCharacters(in: .whitespacesAndNewlines).count
        let line = first.count > detailCharacters ? String(first.prefix(detailCharacters - 1)) + "…" : first
        return more && !line.hasSuffix("…") ? line + " …" : line
    }
}

import Foundation

/// The JSON document of `sloth run -o json` (SPEC section 4), also stored with the run.
public struct RunDocument {
    public let json: String

    public init(_ report: RunReport) {
        var tasks: [String: LuaValue] = [:]
        for task in report.tasks {
            var fields: [String: LuaValue] = ["status": .string(Self.status(task.status)),
                                              "duration": .string(Self.duration(task.durationMillis)),
                                              "output": task.output]
            if let error = task.error { fields["error"] = .string(error) }
            if let message = task.message { fields["message"] = .string(message) }
            if !task.artifacts.isEmpty { fields["artifacts"] = .table(LuaTable(array: task.artifacts.map(LuaValue.string))) }
            tasks[task.name] = .table(LuaTable(fields: fields))
        }
        var document: [String: LuaValue] = [
            "status": .string(report.succeeded ? "success" : "failed"), "workflow": .string(report.workflow),
            "run_id": .integer(report.runID), "duration": .string(Self.duration(report.durationMillis)),
            "tasks": .table(LuaTable(fields: tasks)), "outputs": Self.outputs(report),
        ]
        if let error = report.error { document["error"] = .string(error) }
        if let stack = report.stack { document["stack"] = LuaTable.record(["name": .string(stack)]) }
        json = LuaJSON.encode(.table(LuaTable(fields: document)))
    }

    /// The outputs of the tasks that succeeded, by task.
    public static func outputs(_ report: RunReport) -> LuaValue {
        .table(LuaTable(fields: Dictionary(report.tasks.filter { $0.status == "success" }.map { ($0.name, $0.output) }) { $1 }))
    }

    /// `1.234s`.
    public static func duration(_ milliseconds: Int64) -> String {
        "\(milliseconds / 1000).\(String(format: "%03d", Int(milliseconds % 1000)))s"
    }

    /// Task states of SPEC section 4: success, failed, skipped, timed_out, cancelled.
    static func status(_ status: String) -> String {
        ["success", "failed", "skipped", "timed_out", "cancelled"].contains(status) ? status : "failed"
    }
}

import Catalog
import Foundation

/// The JSON document of `sloth run -o json` (SPEC section 4), also stored with the run. Each task's
/// output is encoded once, for the document and for the task's own row: a command's output can be
/// megabytes.
public struct RunDocument {
    public let json: String
    /// Each task's output as JSON, by task.
    public let outputJSON: [String: String]
    /// The outputs of the tasks that succeeded, by task (a stack keeps them as its last outputs).
    public let outputsJSON: String

    public init(_ report: RunReport) {
        let outputs = Dictionary(report.tasks.map { ($0.name, LuaJSON.encode($0.output)) }) { $1 }
        var tasks: [String: String] = [:]
        for task in report.tasks {
            var fields = ["status": Self.text(task.status.rawValue), "duration": Self.text(Self.duration(task.durationMillis)),
                          "output": outputs[task.name] ?? "{}"]
            if let error = task.error { fields["error"] = Self.text(error) }
            if let message = task.message { fields["message"] = Self.text(message) }
            if let agent = task.agent { fields["agent"] = Self.text(agent) }
            if !task.artifacts.isEmpty { fields["artifacts"] = LuaJSON.encode(.table(LuaTable(array: task.artifacts.map(LuaValue.string)))) }
            tasks[task.name] = Self.object(fields)
        }
        let succeeded = report.tasks.filter { $0.status == .success }.map(\.name)
        outputJSON = outputs
        outputsJSON = Self.object(Dictionary(succeeded.map { ($0, outputs[$0] ?? "{}") }) { $1 })
        var document = [
            "status": Self.text(report.succeeded ? "success" : "failed"), "workflow": Self.text(report.workflow),
            "run_id": String(report.runID), "duration": Self.text(Self.duration(report.durationMillis)),
            "tasks": Self.object(tasks), "outputs": outputsJSON,
        ]
        if let error = report.error { document["error"] = Self.text(error) }
        if let stack = report.stack { document["stack"] = Self.object(["name": Self.text(stack)]) }
        json = Self.object(document)
    }

    /// `1.234s`.
    public static func duration(_ milliseconds: Int64) -> String {
        "\(milliseconds / 1000).\(zeroPadded(milliseconds % 1000, width: 3))s"
    }

    /// `7` as `007`: String(format:) goes through Foundation's formatter, which costs more than the run's bookkeeping.
    static func zeroPadded(_ value: Int64, width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func text(_ string: String) -> String { LuaJSON.encode(.string(string)) }

    /// An object of JSON texts, keys sorted as LuaJSON writes them.
    private static func object(_ fields: [String: String]) -> String {
        "{" + fields.keys.sorted().map { text($0) + ":" + fields[$0]! }.joined(separator: ",") + "}"
    }
}

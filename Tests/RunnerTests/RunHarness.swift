import Catalog
import Foundation
import Runner

/// Runs workflow source in a fresh database under a temporary directory; logs are kept, not printed.
struct RunHarness {
    let directory: URL
    let database: CatalogDatabase

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-runner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = try CatalogDatabase(path: directory.appendingPathComponent("slothd.db").path)
    }

    func run(_ source: String, file: String = "test.sloth", workflow: String? = nil, tasks: [String] = [],
             params: [String: String] = [:], values: LuaValue = .table(LuaTable()), stack: String? = nil,
             cancellation: RunCancellation = RunCancellation()) async throws(RunnerError) -> RunReport {
        try await WorkflowRunner(database: database, echo: nil, environment: [:]).run(
            RunRequest(file: file, source: source, workflow: workflow, tasks: tasks, params: params, values: values, stack: stack),
            cancellation: cancellation)
    }

    /// The single task's output of a one-task workflow whose command body is `body`.
    func output(of body: String) async throws -> LuaValue {
        let report = try await run("task('t'):command(function(this, params)\n\(body)\nend):build()\n")
        guard let task = report.task("t"), task.status == .success else {
            throw RunnerError.invalidWorkflow("task did not succeed: \(report.task("t")?.error ?? "?")")
        }
        return task.output
    }

    var state: StateStore { StateStore(database: database) }
}

/// Processes whose command line contains `marker` (to prove none outlives its run).
func processes(containing marker: String) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> String? in
        guard Int(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
        let command = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        return command.contains(marker) && !command.contains("pgrep") ? command : nil
    }
}

import ArgumentParser
import Foundation
import Runner

/// `sloth run -f FILE [WORKFLOW]`: runs a workflow file in this process, no daemon needed.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow file locally (logs on stderr, result on stdout).",
        discussion: "Exit status: 0 success, 2 invalid file or arguments, 3 a task or the workflow failed."
    )

    @Option(name: [.short, .customLong("file")], help: ArgumentHelp("The workflow file (.sloth, Lua).", valueName: "FILE"))
    var file: String

    @Argument(help: "The workflow to run when the file defines several.")
    var workflow: String?

    @Option(name: .customLong("task"), help: ArgumentHelp("Run only this task and what it depends on (repeatable).", valueName: "T"))
    var tasks: [String] = []

    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter for every task, as key=value (repeatable).", valueName: "k=v"))
    var params: [String] = []

    @Option(help: ArgumentHelp("A YAML file whose content becomes the global `values`.", valueName: "FILE.yaml"))
    var values: String?

    @Flag(name: .customLong("verbose"), help: "Also show debug log lines.")
    var verbose = false

    @Option(name: [.short, .customLong("output")], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let request = try makeRequest()
        let runner = WorkflowRunner(database: try LocalDatabase.open(), echo: { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }, echoLevel: verbose ? .debug : .info)
        let cancellation = RunCancellation()
        let signalSources = Self.cancelOnSignals(cancellation)
        defer { signalSources.forEach { $0.cancel() } }
        let report: RunReport
        do {
            report = try runner.runOnCurrentThread(request, cancellation: cancellation)
        } catch {
            if case .storage(let message) = error { throw CommandFailure(message: message) }
            throw InvalidInput(message: "\(error)")
        }
        switch output {
        case .json: print(RunDocument(report).json)
        case .text: print(RunSummary(report: report).render(), terminator: "")
        }
        if !report.succeeded { throw ExitCode(ExitStatus.taskFailed) }
    }

    /// Ctrl-C or SIGTERM cancels the run, so the process groups it started are stopped rather than orphaned.
    private static func cancelOnSignals(_ cancellation: RunCancellation) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { cancellation.cancel() }
            source.resume()
            return source
        }
    }

    private func makeRequest() throws -> RunRequest {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw InvalidInput(message: "cannot read workflow file \(file)")
        }
        guard let source = String(data: data, encoding: .utf8) else {
            throw InvalidInput(message: "\(file) is not valid UTF-8")
        }
        var parameters: [String: String] = [:]
        for param in params {
            guard let equals = param.firstIndex(of: "="), equals != param.startIndex else {
                throw InvalidInput(message: "malformed --param \"\(param)\": expected key=value")
            }
            parameters[String(param[..<equals])] = String(param[param.index(after: equals)...])
        }
        return RunRequest(file: file, source: source, workflow: workflow, tasks: tasks, params: parameters,
                          values: try loadValues())
    }

    private func loadValues() throws -> LuaValue {
        guard let values else { return .table(LuaTable()) }
        guard let data = FileManager.default.contents(atPath: values) else {
            throw InvalidInput(message: "cannot read values file \(values)")
        }
        do {
            let parsed = try ValuesFile.parse(String(decoding: data, as: UTF8.self))
            return parsed
        } catch {
            throw InvalidInput(message: "\(values): \(error)")
        }
    }
}

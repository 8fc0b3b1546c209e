import ArgumentParser
import Control
import Foundation
import Runner

/// `sloth run -f FILE [WORKFLOW]`: runs a workflow file in this process, no daemon needed.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow file locally (-f), or a catalog workflow through slothd (logs on stderr, result on stdout).",
        discussion: "Exit status: 0 success, 1 slothd unreachable, 2 invalid file or arguments, 3 a task or the workflow failed."
    )

    @Option(name: [.short, .customLong("file")], help: ArgumentHelp("Run this workflow file in this process.", valueName: "FILE"))
    var file: String?

    @Argument(help: "With -f: the workflow to run when the file defines several. Without: the catalog workflow.")
    var workflow: String?

    @Flag(help: "Through slothd: print the run's id and return at once.")
    var detach = false

    @Option(help: ArgumentHelp("The control socket (default: $SLOTH_SOCKET or the standard path).", valueName: "PATH"))
    var socket: String?

    @Option(name: .customLong("task"), help: ArgumentHelp("Run only this task and what it depends on (repeatable).", valueName: "T"))
    var tasks: [String] = []

    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter for every task, as key=value (repeatable).", valueName: "k=v"))
    var params: [String] = []

    @Option(help: ArgumentHelp("A YAML file whose content becomes the global `values`.", valueName: "FILE.yaml"))
    var values: String?

    @Option(help: ArgumentHelp("The stack whose values, state and secrets the run uses (default: the active stack, if any; \"\" for none).",
                               valueName: "S"))
    var stack: String?

    @Option(name: .customLong("delegate-to"),
            help: ArgumentHelp("Run every task without its own delegate_to on this agent (repeatable: the first one connected); with -f, the file runs through slothd.",
                               valueName: "AGENT"))
    var delegateTo: [String] = []

    @Flag(name: .customLong("verbose"), help: "Also show debug log lines.")
    var verbose = false

    @Flag(name: [.short, .customLong("quiet")], help: "Do not show what the run's commands print (it is still in the run's log).")
    var quiet = false

    @Option(name: [.short, .customLong("output")], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        guard let file else { return try runThroughDaemon() }
        // Agents are slothd's: a file whose tasks go to one runs there.
        if !delegateTo.isEmpty { return try runThroughDaemon(file: file) }
        let database = try LocalDatabase.open()
        var request = try makeRequest(file: file)
        request.stack = try LocalDatabase.stack(stack, in: database)
        request.delegateTo = delegateTo
        let runner = WorkflowRunner(database: database, echo: { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }, shown: RunLog.Echo(level: verbose ? .debug : .info, jobOutput: !quiet))
        let cancellation = RunCancellation()
        let signalSources = Self.cancelOnSignals(cancellation)
        defer { signalSources.forEach { $0.cancel() } }
        let report: RunReport
        do {
            report = try runner.runOnCurrentThread(request, cancellation: cancellation)
        } catch {
            if case .storage(let message) = error { throw CommandFailure(message: message) }
            if case .cancelledBeforeStart = error { throw ExitCode(ExitStatus.taskFailed) }
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

    private func parameters() throws -> [String: String] { try Parameters.parse(params) }

    /// Starts the run in slothd, follows its log until it ends, then prints its result.
    /// With `file`, the file's content goes along and slothd runs it as it is (nothing is added to the catalog).
    private func runThroughDaemon(file: String? = nil) throws {
        let start: ControlAPI.StartRun
        if let file {
            start = ControlAPI.StartRun(workflow: workflow ?? "", params: try parameters(), tasks: tasks, stack: stack, delegate_to: delegateTo,
                                        file: file, content: try TextInput.read(file, what: "workflow file"),
                                        values_json: values == nil ? nil : LuaJSON.encode(try loadValues()))
        } else {
            guard let workflow else { throw InvalidInput(message: "name a catalog workflow, or give a file with -f") }
            if values != nil { throw InvalidInput(message: "--values goes with -f (catalog runs take their values from stacks)") }
            start = ControlAPI.StartRun(workflow: workflow, params: try parameters(), tasks: tasks, stack: stack,
                                        delegate_to: delegateTo.isEmpty ? nil : delegateTo)
        }
        let client = DaemonOptions.client(socket: socket)
        let started: ControlAPI.Run = try daemonCall { () throws(ControlClient.Error) in try client.post("/runs", start) }
        if detach {
            print(output == .json ? try JSONOutput.encode(started) : "run \(started.id) queued")
            return
        }
        let follower = RunFollower(client: client, runID: started.id)
        let finished = try follower.follow { line in
            if quiet && line.stream != nil { return }
            FileHandle.standardError.write(Data((RunFollower.text(line) + "\n").utf8))
        }
        try follower.printResult(finished, output: output)
    }

    private func makeRequest(file: String) throws -> RunRequest {
        let source = try TextInput.read(file, what: "workflow file")
        return RunRequest(file: file, source: source, workflow: workflow, tasks: tasks, params: try parameters(),
                          values: try loadValues())
    }

    private func loadValues() throws -> LuaValue {
        guard let values else { return .table(LuaTable()) }
        let text = try TextInput.read(values, what: "values file")
        do {
            let parsed = try ValuesFile.parse(text)
            return parsed
        } catch {
            throw InvalidInput(message: "\(values): \(error)")
        }
    }
}

/// `--param key=value`, repeatable.
enum Parameters {
    static func parse(_ params: [String]) throws -> [String: String] {
        var parameters: [String: String] = [:]
        for param in params {
            guard let equals = param.firstIndex(of: "="), equals != param.startIndex else {
                throw InvalidInput(message: "malformed --param \"\(param)\": expected key=value")
            }
            parameters[String(param[..<equals])] = String(param[param.index(after: equals)...])
        }
        return parameters
    }
}

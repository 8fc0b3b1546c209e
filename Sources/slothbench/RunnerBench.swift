import ArgumentParser
import Catalog
import Foundation
import Runner

/// The runner's figures: whole runs per second in-process, the cost of a yielding `exec.run("true")`
/// next to a bare posix_spawn of /bin/true, what capturing a command's output into the stored log
/// costs, and `sloth run -f hello-world.sloth` from exec to exit.
struct RunnerBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runner", abstract: "Workflow runner figures.")

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Trivial runs to time in-process.")
    var runs = 300

    @Option(help: "Commands to spawn for the exec comparison.")
    var spawns = 300

    @Option(help: "Runs of each output-capture case (1,000 lines of 80 bytes, or the same sent to /dev/null).")
    var outputRuns = 40

    @Option(help: "`sloth run` invocations to time (0: skip).")
    var cliRuns = 30

    @Option(help: "The sloth binary (default: next to slothbench).")
    var sloth: String?

    @Option(help: "The workflow for the CLI figure.")
    var example = "examples/hello-world.sloth"

    @Option(help: "The C floor ../shared/bench/c/lua_bench.c, built (skipped when absent).")
    var luaBench: String?

    @Option(help: "The interpreter whose bare start is the CLI figure's floor (skipped when absent).")
    var python = "/usr/bin/python3"

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothbench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let runner = WorkflowRunner(database: try CatalogDatabase(path: directory.appendingPathComponent("slothd.db").path), echo: nil)

        let trivial = RunRequest(file: "trivial.sloth", source: "task('t'):command(function() return true, 'ok', {n = 1} end)")
        let perRun = try seconds { for _ in 0..<runs { _ = try runner.runOnCurrentThread(trivial) } } / Double(runs)

        let loop = RunRequest(file: "exec.sloth", source: "task('t'):command(function() for i = 1, \(spawns) do exec.run('true') end end)")
        let execPerCall = try seconds { _ = try runner.runOnCurrentThread(loop) } / Double(spawns)
        let spawnPerCall = try seconds { for _ in 0..<spawns { try spawnAndWait(["/bin/true"]) } } / Double(spawns)
        let capture = try outputCapture(runner)
        let cli = cliRuns > 0 ? try cliMedian(stateDirectory: directory.path) : nil
        let pythonStart = cliRuns > 0 && FileManager.default.isExecutableFile(atPath: python)
            ? try median(cliRuns) { try spawnAndWait([python, "-c", "pass"], quiet: true) } : nil
        let floor = try luaBench.map(Self.luaStateFloor)

        let report = RunnerBenchReport(
            suite: "runner", trivial_runs_per_sec: (1 / perRun).rounded(),
            exec_true_ms: Self.millis(execPerCall), posix_spawn_true_ms: Self.millis(spawnPerCall),
            exec_overhead_ms: Self.millis(execPerCall - spawnPerCall),
            output_1000_lines_median_ms: Self.millis(capture.printing), output_none_median_ms: Self.millis(capture.silent),
            output_capture_cost_ms: Self.millis(capture.printing - capture.silent), cli_hello_world_median_ms: cli.map(Self.millis),
            c_floor_lua_states_per_sec: floor, trivial_share_of_c_floor: floor.map { ((1 / perRun) / $0 * 1000).rounded() / 1000 },
            python_start_median_ms: pythonStart.map(Self.millis),
            cli_over_python_start: pythonStart.flatMap { start in cli.map { (($0 / start) * 100).rounded() / 100 } })
        if json {
            try printJSON(report)
        } else {
            print("trivial runs in-process: \(Int(report.trivial_runs_per_sec))/s"
                  + (floor.map { "; C floor (state create+openlibs+close) \(Int($0))/s, share \(report.trivial_share_of_c_floor ?? 0)" } ?? ""))
            print("exec.run('true'): \(report.exec_true_ms) ms; posix_spawn /bin/true: \(report.posix_spawn_true_ms) ms; overhead \(report.exec_overhead_ms) ms")
            print("1,000 lines of 80 bytes: \(report.output_1000_lines_median_ms) ms; none: \(report.output_none_median_ms) ms; capture costs \(report.output_capture_cost_ms) ms")
            if let cli = report.cli_hello_world_median_ms {
                print("sloth run -f \(example): median \(cli) ms" + (report.python_start_median_ms.map { "; python3 -c pass \($0) ms" } ?? ""))
            }
        }
    }

    /// Median run times of a task whose command prints 1,000 lines of 80 bytes, and of the same command
    /// with its output sent to /dev/null; both store their log as the daemon does (batches to SQLite).
    private func outputCapture(_ runner: WorkflowRunner) throws -> (printing: Double, silent: Double) {
        let pipeline = "yes \(String(repeating: "x", count: 79)) | head -n 1000"
        func request(_ command: String) -> RunRequest {
            var request = RunRequest(file: "output.sloth", source: "task('t'):command('\(command)')")
            request.logsStored = {}
            return request
        }
        let (printing, silent) = (request(pipeline), request(pipeline + " >/dev/null"))
        var samples: ([Double], [Double]) = ([], [])
        for _ in 0..<outputRuns {
            samples.0.append(try seconds { _ = try runner.runOnCurrentThread(printing) })
            samples.1.append(try seconds { _ = try runner.runOnCurrentThread(silent) })
        }
        return (samples.0.sorted()[outputRuns / 2], samples.1.sorted()[outputRuns / 2])
    }

    private func cliMedian(stateDirectory: String) throws -> Double {
        let binary = sloth ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sloth").path
        let environment = ["SLOTHD_STATE_DIR=\(stateDirectory)", "PATH=/usr/bin:/bin"]
        return try median(cliRuns) { try spawnAndWait([binary, "run", "-f", example], environment: environment, quiet: true) }
    }

    private func median(_ count: Int, _ body: () throws -> Void) throws -> Double {
        let samples = try (0..<count).map { _ in try seconds(body) }
        return samples.sorted()[samples.count / 2]
    }

    /// States per second of `lua_bench full`, the best of three rounds of 20,000.
    private static func luaStateFloor(_ binary: String) throws -> Double {
        try (0..<3).map { _ in
            let line = try capture([binary, "full", "20000"])
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("per_sec=") }),
                  let rate = Double(field.dropFirst("per_sec=".count)) else {
                throw ValidationError("\(binary) printed no per_sec= figure: \(line)")
            }
            return rate
        }.max()!.rounded()
    }

    private static func capture(_ arguments: [String]) throws -> String {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    private func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static func millis(_ seconds: Double) -> Double { (seconds * 100_000).rounded() / 100 }
}

struct RunnerBenchReport: Codable {
    let suite: String
    let trivial_runs_per_sec: Double
    let exec_true_ms: Double
    let posix_spawn_true_ms: Double
    let exec_overhead_ms: Double
    let output_1000_lines_median_ms: Double
    let output_none_median_ms: Double
    let output_capture_cost_ms: Double
    let cli_hello_world_median_ms: Double?
    let c_floor_lua_states_per_sec: Double?
    let trivial_share_of_c_floor: Double?
    let python_start_median_ms: Double?
    let cli_over_python_start: Double?
}

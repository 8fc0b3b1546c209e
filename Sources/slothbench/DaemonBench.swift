import ArgumentParser
import Control
import Foundation

/// slothd end to end: on-demand runs of a trivial workflow through the control socket, with every run
/// durably recorded; the latency of `sloth run NAME`; the daemon's memory idle and after the runs.
struct DaemonBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "daemon", abstract: "slothd throughput, latency and memory.")

    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Runs to push through for the throughput figure.") var runs = 2000
    @Option(help: "Workers of the daemon under test.") var workers = 2
    @Option(help: "Concurrent clients submitting runs.") var clients = 8
    @Option(help: "`sloth run NAME` invocations for the latency figures.") var cliRuns = 50

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothbench-daemon-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let socket = directory.appendingPathComponent("control.sock").path
        let daemon = Process()
        daemon.executableURL = bin.appendingPathComponent("slothd")
        daemon.arguments = ["--state-dir", directory.appendingPathComponent("state").path, "--socket", socket,
                            "--workers", String(workers), "--queue", String(runs + 100)]
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { daemon.terminate(); daemon.waitUntilExit() }
        let client = ControlClient(socket: socket)
        for _ in 0..<200 where (try? client.get("/status", as: ControlAPI.Status.self)) == nil { usleep(50_000) }
        let idle = Self.rssKiB(daemon.processIdentifier)
        let workflow = directory.appendingPathComponent("trivial.sloth").path
        try "task('t'):command(function() return true, 'ok', {n = 1} end)\n".write(toFile: workflow, atomically: true, encoding: .utf8)
        let _: ControlAPI.Workflow = try client.post("/workflows", ControlAPI.AddWorkflow(
            name: "trivial", content: try String(contentsOfFile: workflow, encoding: .utf8), file: workflow, description: nil, tags: [], active: true))

        let started = Date()
        DispatchQueue.concurrentPerform(iterations: clients) { index in
            let share = runs / clients + (index < runs % clients ? 1 : 0)
            for _ in 0..<share {
                let _: ControlAPI.Run? = try? client.post("/runs", ControlAPI.StartRun(workflow: "trivial", params: [:], tasks: []))
            }
        }
        while true {
            let status: ControlAPI.Status = try client.get("/status")
            if status.queued == 0 && status.busy_workers == 0 { break }
            usleep(5_000)
        }
        let elapsed = Date().timeIntervalSince(started)
        let recorded: [ControlAPI.Run] = try client.get("/runs?limit=\(runs)&state=succeeded")
        let afterRuns = Self.rssKiB(daemon.processIdentifier)

        // `sloth status` in the same minutes is the floor: the CLI's start and one request.
        let sloth = bin.appendingPathComponent("sloth").path
        func percentiles(_ arguments: [String]) throws -> (p50: Double, p99: Double)? {
            guard cliRuns > 0 else { return nil }
            var latencies: [Double] = []
            for _ in 0..<cliRuns {
                let start = Date()
                try spawnAndWait([sloth] + arguments + ["--socket", socket], quiet: true)
                latencies.append(Date().timeIntervalSince(start) * 1000)
            }
            latencies.sort()
            let round = { (value: Double) in (value * 10).rounded() / 10 }
            return (round(latencies[latencies.count / 2]), round(latencies[min(latencies.count - 1, latencies.count * 99 / 100)]))
        }
        let run = try percentiles(["run", "trivial"]), status = try percentiles(["status"])
        let report = DaemonBenchReport(
            suite: "daemon", workers: workers, runs: runs, succeeded_and_recorded: recorded.count,
            runs_per_sec: (Double(recorded.count) / elapsed).rounded(),
            sloth_run_p50_ms: run?.p50, sloth_run_p99_ms: run?.p99, sloth_status_p50_ms: status?.p50,
            rss_idle_kib: idle, rss_after_runs_kib: afterRuns)
        if json {
            try printJSON(report)
        } else {
            print("\(report.succeeded_and_recorded)/\(runs) runs at \(Int(report.runs_per_sec))/s with \(workers) workers")
            print("sloth run NAME: p50 \(report.sloth_run_p50_ms ?? 0) ms, p99 \(report.sloth_run_p99_ms ?? 0) ms; sloth status p50 \(report.sloth_status_p50_ms ?? 0) ms")
            print("RSS idle \(idle) KiB, after the runs \(afterRuns) KiB")
        }
    }

    static func rssKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}

struct DaemonBenchReport: Codable {
    let suite: String
    let workers: Int
    let runs: Int
    let succeeded_and_recorded: Int
    let runs_per_sec: Double
    let sloth_run_p50_ms: Double?
    let sloth_run_p99_ms: Double?
    let sloth_status_p50_ms: Double?
    let rss_idle_kib: Int
    let rss_after_runs_kib: Int
}

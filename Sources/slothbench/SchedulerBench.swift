import ArgumentParser
import Catalog
import Control
import Foundation
import TestSupport

/// The scheduler under load: N schedules all due in the same second, each a trivial workflow; the time
/// from slothd's start to ready with them loaded; its memory with 1,000 and 100,000 schedules. The
/// APScheduler peer (`../shared/bench/apscheduler_bench.py`) runs the same load in the same run.
struct SchedulerBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scheduler", abstract: "Schedules firing at once, start-up and memory.")

    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Schedules due in the same second.") var schedules = 10_000
    @Option(help: "Workers of the daemon under test.") var workers = 8
    @Option(help: "Seconds between starting slothd and the common fire time.") var lead = 8
    @Option(help: "The APScheduler peer script (skipped when absent).") var peerScript: String?

    func run() throws {
        let fire = try fireTest()
        let small = try memory(schedules: 1_000, serve: 1_000)
        let large = try memory(schedules: 100_000)
        let report = SchedulerBenchReport(
            suite: "scheduler", schedules: schedules, workers: workers, started: fire.started, recorded_once: fire.recordedOnce,
            dispatch_lateness_p50_ms: fire.dispatchP50, dispatch_lateness_p99_ms: fire.dispatchP99, dispatch_lateness_max_ms: fire.dispatchMax,
            all_started_after_ms: fire.allStartedAfter, lateness_p50_ms: fire.p50, lateness_p99_ms: fire.p99, lateness_max_ms: fire.max,
            ready_ms: fire.readyMillis, rss_kib_1000: small.rss, rss_kib_1000_served: small.served ?? 0, rss_kib_100000: large.rss, anon_kib_1000: small.anon,
            anon_kib_100000: large.anon, ready_ms_100000: large.ready,
            apscheduler_fire: peerScript.flatMap { try? Self.peer($0, ["fire", String(schedules), "cron", "none"]) },
            apscheduler_memory: peerScript.flatMap { try? Self.peer($0, ["memory", "100000"]) })
        if json {
            try printJSON(report)
        } else {
            print("dispatch lateness p50 \(fire.dispatchP50) p99 \(fire.dispatchP99) max \(fire.dispatchMax) ms")
            print("\(fire.started)/\(schedules) started, all after \(fire.allStartedAfter) ms; lateness p50 \(fire.p50) p99 \(fire.p99) max \(fire.max) ms")
            print("ready with \(schedules) schedules: \(fire.readyMillis) ms; RSS 1k: \(small.rss) KiB (\(small.served ?? 0) KiB after 1,000 runs), "
                  + "100k: \(large.rss) KiB")
        }
    }

    struct Fire {
        var started = 0, recordedOnce = false
        var allStartedAfter = 0.0, p50 = 0.0, p99 = 0.0, max = 0.0, readyMillis = 0.0
        var dispatchP50 = 0.0, dispatchP99 = 0.0, dispatchMax = 0.0
    }

    /// Schedules written straight into a new database, then slothd started on it.
    private func fireTest() throws -> Fire {
        let place = Place()
        defer { place.remove() }
        let now = Int64(Date().timeIntervalSince1970)
        let nominal = now + Int64(lead)
        let fields = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date(timeIntervalSince1970: Double(nominal)))
        try place.seed(schedules, cron: "\(fields.second!) \(fields.minute!) \(fields.hour!) * * *", cursor: now)
        let daemon = try place.start(workers: workers, queue: schedules + 100)
        defer { daemon.stop() }
        var fire = Fire(readyMillis: daemon.readyMillis)
        let runs = RunStore(database: try CatalogDatabase(path: place.databasePath))
        let deadline = Date(timeIntervalSince1970: Double(nominal + 120))
        // Polled lightly (the newest row, a queued one) so that the bench takes no CPU from the daemon;
        // the figures come from the rows' own times, not from when the poll saw them.
        while Date() < deadline {
            let fired = try !runs.list(.init(limit: 1)).isEmpty
            if fired, try runs.list(.init(state: .queued, limit: 1)).isEmpty { break }
            usleep(100_000)
        }
        let recorded = try runs.list(.init(limit: schedules * 2))
        let lateness = recorded.compactMap { run in run.startedAt.map { Double($0 - nominal * 1000) } }.sorted()
        let dispatch = recorded.map { Double($0.queuedAt - nominal * 1000) }.sorted()
        if !dispatch.isEmpty {
            (fire.dispatchP50, fire.dispatchMax) = (dispatch[dispatch.count / 2], dispatch.last!)
            fire.dispatchP99 = dispatch[min(dispatch.count - 1, dispatch.count * 99 / 100)]
        }
        fire.started = lateness.count
        fire.recordedOnce = recorded.count == schedules && Set(recorded.map { "\($0.schedule ?? "")@\($0.nominalAt ?? 0)" }).count == schedules
        if !lateness.isEmpty {
            fire.allStartedAfter = lateness.last!
            fire.p50 = lateness[lateness.count / 2]
            fire.p99 = lateness[min(lateness.count - 1, lateness.count * 99 / 100)]
            fire.max = lateness.last!
        }
        return fire
    }

    private func memory(schedules count: Int, serve runs: Int = 0) throws -> (rss: Int, anon: Int, ready: Double, served: Int?) {
        let place = Place()
        defer { place.remove() }
        try place.seed(count, cron: "0 3 * * 1-5", cursor: Int64(Date().timeIntervalSince1970))
        let daemon = try place.start(workers: 2, queue: 1000)
        defer { daemon.stop() }
        usleep(500_000)
        let idle = (DaemonBench.rssKiB(daemon.pid), Self.anonKiB(daemon.pid), daemon.readyMillis)
        guard runs > 0 else { return (idle.0, idle.1, idle.2, nil) }
        try Self.serve(ControlClient(socket: place.socketPath), runs: runs)
        return (idle.0, idle.1, idle.2, DaemonBench.rssKiB(daemon.pid))
    }

    /// What an operator's day asks of the daemon: `status`, `scheduler list`, then `runs` trivial runs,
    /// waited for until the pool is idle.
    static func serve(_ client: ControlClient, runs: Int) throws {
        let _: ControlAPI.Status = try client.get("/status")
        let _: [ControlAPI.Schedule] = try client.get("/schedules")
        for _ in 0..<runs {
            let _: ControlAPI.Run = try client.post("/runs", ControlAPI.StartRun(workflow: "trivial", params: [:], tasks: []))
        }
        while true {
            let status: ControlAPI.Status = try client.get("/status")
            if status.queued == 0 && status.busy_workers == 0 { return }
            usleep(20_000)
        }
    }

    /// A state directory for one daemon under test.
    struct Place {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothbench-scheduler-\(getpid())-\(UUID().uuidString.prefix(6))")
        var databasePath: String { directory.appendingPathComponent("state/slothd.db").path }
        var socketPath: String { directory.appendingPathComponent("control.sock").path }

        /// A database with one trivial workflow and `count` schedules, closed again (its WAL checkpointed)
        /// before slothd opens it, as after any earlier daemon run.
        func seed(_ count: Int, cron: String, cursor: Int64) throws {
            let database = try CatalogDatabase(path: databasePath)
            _ = try WorkflowStore(database: database).add(.init(
                name: "trivial", content: "task('t'):command(function() return true end)\n", filePath: nil,
                description: nil, tags: [], active: true))
            try ScheduleStore(database: database).add((0..<count).map {
                .init(name: "s\($0)", workflow: "trivial", cron: cron, zone: "UTC", tasks: [], params: [:], overlap: "skip", catchup: "latest",
                      catchupWindowSeconds: 86_400, jitterSeconds: 0, timeoutSeconds: nil, description: nil, enabled: true, cursor: cursor)
            })
        }

        /// Spawns slothd and waits for its READY=1 on a notify socket of our own: the time from spawn to ready.
        func start(workers: Int, queue: Int, extraArguments: [String] = []) throws -> Daemon {
            let notify = try NotifyListener(path: directory.appendingPathComponent("notify.sock").path)
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slothd").path
            let arguments = [binary, "--state-dir", directory.appendingPathComponent("state").path,
                             "--socket", socketPath,
                             "--workers", String(workers), "--queue", String(queue)] + extraArguments
            let environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": notify.path]) { $1 }.map { "\($0.key)=\($0.value)" }
            let started = ContinuousClock.now
            let pid = try spawnDetached(arguments, environment: environment)
            guard notify.wait(for: "READY=1", timeout: 60) != nil else {
                kill(pid, SIGKILL)
                throw ValidationError("slothd did not report READY=1 within 60 s")
            }
            let elapsed = ContinuousClock.now - started
            let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            return Daemon(pid: pid, readyMillis: (millis * 10).rounded() / 10)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    struct Daemon {
        let pid: pid_t
        let readyMillis: Double

        func stop() {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// Private (anonymous) memory: what the schedules cost, without the binary's shared pages.
    static func anonKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    static func peer(_ script: String, _ arguments: [String]) throws -> [String: JSONNumberOrText] {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["LEAD": "25"]) { $1 }
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode([String: JSONNumberOrText].self, from: data)
    }
}

/// A peer's JSON values, kept as they are.
enum JSONNumberOrText: Codable {
    case number(Double), text(String), null
    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null } else if let number = try? container.decode(Double.self) { self = .number(number) }
        else { self = .text((try? container.decode(String.self)) ?? "") }
    }
    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .text(let text): try container.encode(text)
        case .null: try container.encodeNil()
        }
    }
}

struct SchedulerBenchReport: Encodable {
    let suite: String
    let schedules: Int
    let workers: Int
    let started: Int
    let recorded_once: Bool
    let dispatch_lateness_p50_ms: Double
    let dispatch_lateness_p99_ms: Double
    let dispatch_lateness_max_ms: Double
    let all_started_after_ms: Double
    let lateness_p50_ms: Double
    let lateness_p99_ms: Double
    let lateness_max_ms: Double
    let ready_ms: Double
    let rss_kib_1000: Int
    /// After `status`, `scheduler list` and 1,000 runs.
    let rss_kib_1000_served: Int
    let rss_kib_100000: Int
    let anon_kib_1000: Int
    let anon_kib_100000: Int
    let ready_ms_100000: Double
    let apscheduler_fire: [String: JSONNumberOrText]?
    let apscheduler_memory: [String: JSONNumberOrText]?
}

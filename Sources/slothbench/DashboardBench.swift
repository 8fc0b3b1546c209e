import ArgumentParser
import Catalog
import Control
import Foundation
import TestSupport

/// The dashboard against a crowded database (1,000 schedules, 100,000 runs): every page's time beside
/// the `/v1` query the CLI makes for the same data, in the same run; then 50 open live-log streams on a
/// run printing ten lines a second: the daemon's memory and CPU with them and without.
struct DashboardBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dashboard", abstract: "Dashboard page times and live-log stream cost.")

    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Schedules in the database.") var schedules = 1000
    @Option(help: "Finished runs per schedule.") var runsPerSchedule = 100
    @Option(help: "Requests per page.") var requests = 200
    @Option(help: "Open live-log streams.") var streams = 50
    @Option(help: "Seconds the daemon's CPU and memory are sampled, with the streams and without.") var window = 10

    func run() throws {
        let place = SchedulerBench.Place()
        defer { place.remove() }
        let seeded = try Self.seed(place, schedules: schedules, runsPerSchedule: runsPerSchedule)
        let port = try LoopbackHTTPServer.closedPort()
        let daemon = try place.start(workers: 2, queue: 100, extraArguments: ["--http-listen", "127.0.0.1:\(port)"])
        defer { daemon.stop() }
        let site = try WebSite(base: "http://127.0.0.1:\(port)", socket: place.socketPath)

        let middle = seeded.lastRunID - Int64(seeded.runs / 2)
        let pairs: [(page: String, api: String)] = [
            ("/", "/v1/status"), ("/schedules", "/v1/schedules"), ("/schedules/s\(schedules / 2)", "/v1/schedules/s\(schedules / 2)"),
            ("/runs", "/v1/runs?limit=50"), ("/runs?before=\(middle)", "/v1/runs?limit=50&before=\(middle)"),
            ("/runs?workflow=trivial&state=failed", "/v1/runs?limit=50&workflow=trivial&state=failed"),
            ("/runs/\(middle)", "/v1/runs/\(middle)"), ("/workflows", "/v1/workflows"), ("/workflows/trivial", "/v1/workflows/trivial"),
            ("/agents", "/v1/agents"), ("/stacks", "/v1/stacks"), ("/events", "/v1/events"),
        ]
        var pages: [PageFigure] = []
        for pair in pairs {
            let page = try site.time(pair.page, requests: requests, web: true)
            let api = try site.time(pair.api, requests: requests, web: false)
            pages.append(PageFigure(page: pair.page, page_p50_ms: page.p50, page_p99_ms: page.p99, page_kib: page.kib,
                                    api: pair.api, api_p50_ms: api.p50, api_p99_ms: api.p99))
        }
        let live = try LiveStreams.measure(site: site, daemon: daemon.pid, streams: streams, seconds: window)
        let report = DashboardBenchReport(suite: "dashboard", schedules: schedules, runs: seeded.runs, pages: pages, live: live)
        if json { return try printJSON(report) }
        for figure in pages {
            print("\(figure.page): p50 \(figure.page_p50_ms) ms, p99 \(figure.page_p99_ms) ms, \(figure.page_kib) KiB; \(figure.api): p99 \(figure.api_p99_ms) ms")
        }
        print("\(streams) live streams: RSS +\(live.rss_growth_kib) KiB, CPU \(live.cpu_percent_with_streams) % (without \(live.cpu_percent_without) %)")
    }

    /// One workflow, the schedules, and each schedule's fires ended (one in ten failed), written through
    /// the Catalog as the daemon would have written them.
    static func seed(_ place: SchedulerBench.Place, schedules: Int, runsPerSchedule: Int) throws -> (runs: Int, lastRunID: Int64) {
        let now = Int64(Date().timeIntervalSince1970)
        try place.seed(schedules, cron: "0 2 * * *", cursor: now)
        let database = try CatalogDatabase(path: place.databasePath)
        let scheduleStore = ScheduleStore(database: database), runs = RunStore(database: database)
        var last: Int64 = 0, count = 0
        for day in 0..<runsPerSchedule {
            let fires = (0..<schedules).map {
                ScheduleStore.Fire(schedule: "s\($0)", workflow: "trivial", workflowVersion: 1, nominal: now - Int64(day + 1) * 86_400,
                                   trigger: .schedule, skipReason: nil)
            }
            for id in try scheduleStore.record(fires, advances: []).compactMap({ $0 }) {
                let failed = id % 10 == 0
                let task = RunStore.TaskResult(name: "t", status: failed ? .failed : .success, attempts: 1, durationMillis: 12,
                                               error: failed ? "exit status 1" : nil, outputJSON: nil)
                _ = try runs.markStarted(id, declaredVersion: nil)
                try runs.end(id, .init(state: failed ? .failed : .succeeded, error: failed ? "t: exit status 1" : nil, tasks: [task],
                                       logs: [.init(at: now * 1000, level: "info", task: "t", message: "run \(id)", fieldsJSON: nil)]))
                (last, count) = (id, count + 1)
            }
        }
        return (count, last)
    }

}

struct PageFigure: Codable {
    let page: String
    let page_p50_ms: Double
    let page_p99_ms: Double
    let page_kib: Double
    let api: String
    let api_p50_ms: Double
    let api_p99_ms: Double
}

struct DashboardBenchReport: Codable {
    let suite: String
    let schedules: Int
    let runs: Int
    let pages: [PageFigure]
    let live: LiveStreams.Figure
}

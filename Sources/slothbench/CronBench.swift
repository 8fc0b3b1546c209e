import ArgumentParser
import Foundation
import Scheduler

/// Next-fire computations per second for the expressions of shared/bench/cron-exprs.txt, chained the way
/// a scheduler walks them (each search starts from the previous fire), in one zone.
struct CronBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cron", abstract: "Cron next-fire rate.")

    static let expressions = [
        "* * * * *", "*/5 * * * *", "17 * * * *", "0 2 * * *", "*/15 9-17 * * 1-5", "0 0 1 * *",
        "0 0 29 2 *", "0 0 * * 0", "0 0 13 * 5", "5,35 8-18/2 * * *", "0 12 1,15 * *", "30 4 1-7 * MON",
        "0 9 * JAN,APR,JUL,OCT MON-FRI", "0 22 * * 1-5", "23 0-20/2 * * *", "0 0,12 1 */2 *", "0 0 31 * *",
        "0 6 * * 7", "0,10,20,30,40,50 * * * 6,0", "15-45/10 */3 10-20 3-9 *", "*/10 * * * * *", "30 0 12 * * *",
    ]

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Time zone.")
    var tz = "Europe/Berlin"

    @Option(help: "Seconds of measurement per expression and repetition.")
    var seconds = 0.3

    @Option(help: "Repetitions; the median is reported.")
    var repetitions = 3

    @Option(help: "Also measure croniter and cronsim with this script (shared/bench/cron_rate.py) in the same run.")
    var peerScript: String?

    func run() throws {
        let zone = try ZoneRules(identifier: tz)
        let start = zone.instant(forWall: WallTime(year: 2026, month: 5, day: 28, hour: 20, minute: 26, second: 40).secondsSinceEpoch)
        var results: [CronBenchResult] = []
        for text in Self.expressions {
            let schedule = try CronExpression(parsing: text).schedule
            let rates = (0..<repetitions).map { _ in Self.rate(schedule, zone: zone, start: start, seconds: seconds) }
            results.append(CronBenchResult(expr: text, tz: tz, nexts_per_sec: rates.sorted()[rates.count / 2].rounded()))
        }
        let peers = try peerScript.map { try PeerRates.measure(script: $0) } ?? [:]
        let report = CronBenchReport(suite: "cron", tz: tz, results: results,
                                     geomean_nexts_per_sec: Self.geomean(results.map(\.nexts_per_sec)).rounded(),
                                     peers: peers.isEmpty ? nil : peers)
        if json {
            try printJSON(report)
        } else {
            for result in results {
                print("\(result.expr.padding(toLength: 32, withPad: " ", startingAt: 0)) \(Int(result.nexts_per_sec))/s")
            }
            print("geomean \(Int(report.geomean_nexts_per_sec))/s in \(tz)")
            for (name, rate) in peers.sorted(by: { $0.key < $1.key }) { print("peer \(name): \(Int(rate))/s") }
        }
    }

    static func rate(_ schedule: CronSchedule, zone: ZoneRules, start: Int64, seconds: Double) -> Double {
        let clock = ContinuousClock()
        let began = clock.now
        let budget = Duration.milliseconds(Int(seconds * 1000))
        var count = 0
        var cursor = start
        var checksum: Int64 = 0
        while clock.now - began < budget {
            for _ in 0..<200 {
                // Sparse schedules run off the end of time; start over as croniter's harness does.
                guard let next = schedule.nextFire(after: cursor, in: zone), next < 221_845_392_000 else {
                    cursor = start
                    continue
                }
                checksum &+= next
                cursor = next
                count += 1
            }
        }
        let elapsed = clock.now - began
        precondition(checksum != 0 || count == 0)
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func geomean(_ values: [Double]) -> Double {
        exp(values.map { log($0) }.reduce(0, +) / Double(values.count))
    }
}

struct CronBenchResult: Codable {
    let expr: String
    let tz: String
    let nexts_per_sec: Double
}

struct CronBenchReport: Codable {
    let suite: String
    let tz: String
    let results: [CronBenchResult]
    let geomean_nexts_per_sec: Double
    let peers: [String: Double]?
}

import Foundation

/// Runs the peers' harness (croniter, cronsim in Europe/Berlin) and returns the geometric mean of each.
enum PeerRates {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func measure(script: String) throws -> [String: Double] {
        let results = FileManager.default.temporaryDirectory.appendingPathComponent("slothbench-peers-\(getpid())")
        defer { try? FileManager.default.removeItem(at: results) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        var environment = ProcessInfo.processInfo.environment
        environment["VARIANTS"] = "croniter_Berlin_datetime,cronsim_Berlin"
        environment["REPS"] = "1"
        environment["BUDGET"] = "0.5"
        environment["RES"] = results.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(script) failed (exit \(process.terminationStatus)); it needs `pip install croniter cronsim`")
        }
        let data = try Data(contentsOf: results.appendingPathComponent("cron_rate.json"))
        let document = try JSONDecoder().decode(PeerDocument.self, from: data)
        return document.results.mapValues { perExpression in
            CronBench.geomean(perExpression.values.map(\.median)).rounded()
        }
    }

    private struct PeerDocument: Decodable {
        let results: [String: [String: PeerRate]]
    }

    private struct PeerRate: Decodable {
        let median: Double
    }
}

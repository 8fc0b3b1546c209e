import ArgumentParser
import Catalog
import Foundation
import Runner

/// goroutine channels (issue 15): messages per second ping-ponged between two goroutines over two
/// unbuffered channels, beside plain coroutine resume/yield pairs timed in the same task of the same run.
struct GoroutineBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "goroutines", abstract: "Channel ping-pong beside coroutine switches.")

    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Round trips of the ping-pong (two messages each).") var roundTrips = 100_000
    @Option(help: "Rounds of each measure; the best of each is kept.") var rounds = 3

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothbench-go-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let runner = WorkflowRunner(database: try CatalogDatabase(path: directory.appendingPathComponent("slothd.db").path), echo: nil)
        let report = try runner.runOnCurrentThread(RunRequest(file: "pingpong.sloth", source: Self.source(roundTrips: roundTrips, rounds: rounds)))
        guard let output = report.task("bench")?.output, report.succeeded else {
            throw ValidationError("the benchmark workflow failed: \(report.error ?? "?")")
        }
        let pairs = Double(output["pairs_per_sec"].int ?? 0), messages = Double(output["messages_per_sec"].int ?? 0)
        let result = GoroutineBenchReport(suite: "goroutines", round_trips: roundTrips, coroutine_pairs_per_sec: pairs,
                                          channel_messages_per_sec: messages,
                                          messages_over_pairs: pairs > 0 ? (messages / pairs * 1000).rounded() / 1000 : 0)
        if json { try printJSON(result) } else {
            print("channel messages: \(Int(messages))/s; coroutine resume/yield pairs: \(Int(pairs))/s; share \(result.messages_over_pairs)")
        }
    }

    static func source(roundTrips: Int, rounds: Int) -> String {
        """
        task('bench'):command(function()
          local best_pairs, best_messages = 0, 0
          for _ = 1, \(rounds) do
            local co = coroutine.wrap(function() while true do coroutine.yield() end end)
            local started = os.clock()
            for _ = 1, \(roundTrips * 2) do co() end
            best_pairs = math.max(best_pairs, \(roundTrips * 2) / (os.clock() - started))
            local ping, pong = goroutine.channel(), goroutine.channel()
            local player = goroutine.async(function()
              for _ = 1, \(roundTrips) do pong:send(ping:receive()) end
            end)
            started = os.clock()
            for i = 1, \(roundTrips) do ping:send(i); pong:receive() end
            best_messages = math.max(best_messages, \(roundTrips * 2) / (os.clock() - started))
            goroutine.await(player)
          end
          return true, 'ok', { pairs_per_sec = math.floor(best_pairs), messages_per_sec = math.floor(best_messages) }
        end):build()
        """
    }
}

struct GoroutineBenchReport: Encodable {
    let suite: String
    let round_trips: Int
    let coroutine_pairs_per_sec: Double
    let channel_messages_per_sec: Double
    let messages_over_pairs: Double
}

import ArgumentParser
import Foundation

/// `slothbench`: performance figures for docs/benchmarks.md; each suite prints JSON with `--json`.
@main
struct SlothBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slothbench",
        abstract: "slothd benchmarks.",
        subcommands: [CronBench.self, RunnerBench.self, DaemonBench.self, SchedulerBench.self, AgentBench.self, GoroutineBench.self, DashboardBench.self]
    )
}

/// Every suite's `--json` document: pretty, keys sorted, slashes as they are (zone names have them).
func printJSON(_ report: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(report), as: UTF8.self))
}

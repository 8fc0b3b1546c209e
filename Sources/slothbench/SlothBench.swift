import ArgumentParser

/// `slothbench`: performance figures for docs/benchmarks.md; each suite prints JSON with `--json`.
@main
struct SlothBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slothbench",
        abstract: "slothd benchmarks.",
        subcommands: [CronBench.self, RunnerBench.self, DaemonBench.self]
    )
}

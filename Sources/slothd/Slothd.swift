import ArgumentParser
import Control

/// `slothd`: the scheduler daemon's composition root.
@main
struct Slothd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slothd",
        abstract: "The slothd scheduler daemon.",
        version: SlothVersion.current
    )
}

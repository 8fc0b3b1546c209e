import ArgumentParser
import Control
import Foundation

/// Follows a daemon run's log (long polling) until the run ends.
struct RunFollower {
    let client: ControlClient
    let runID: Int64

    func follow(_ print: (ControlAPI.LogLine) -> Void) throws -> ControlAPI.Run {
        var after: Int64 = 0
        while true {
            let page: ControlAPI.LogPage = try daemonCall { () throws(ControlClient.Error) in
                try client.get("/runs/\(runID)/logs?after=\(after)&wait=5000")
            }
            page.lines.forEach(print)
            after = page.next
            if page.finished && page.lines.isEmpty {
                return try daemonCall { () throws(ControlClient.Error) in try client.get("/runs/\(runID)") }
            }
        }
    }

    static func text(_ line: ControlAPI.LogLine) -> String {
        let time = line.at.split(separator: "T").last.map { String($0.prefix(8)) } ?? line.at
        return ([time, line.level.uppercased().padding(toLength: 5, withPad: " ", startingAt: 0)]
                + [(line.task.map { "[\($0)] " } ?? "") + line.message]).joined(separator: " ")
    }

    /// The run's stored result document (the same JSON as `sloth run -f -o json`), or a line for people.
    static func printResult(_ run: ControlAPI.Run, output: OutputFormat) throws {
        switch output {
        case .json: Swift.print(try run.result ?? JSONOutput.encode(run))
        case .text:
            Swift.print("run \(run.id) of \(run.workflow): \(run.state)" + (run.error.map { ": \($0)" } ?? ""))
        }
        if run.state != "succeeded" { throw ExitCode(ExitStatus.taskFailed) }
    }
}

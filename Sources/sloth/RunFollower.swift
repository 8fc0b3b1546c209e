import ArgumentParser
import Catalog
import Control
import Foundation
import Runner

/// Reads a daemon run's log: what is stored, or (following) each line as slothd stores it, until the
/// run ends. The daemon answers a waiting request the moment lines arrive, so nothing polls.
struct RunFollower {
    let client: ControlClient
    let runID: Int64
    var task: String? = nil

    func follow(_ print: (ControlAPI.LogLine) -> Void) throws -> ControlAPI.Run {
        var after: Int64 = 0
        while true {
            let page = try page(after: after, wait: 5000)
            page.lines.forEach(print)
            after = page.next
            if page.finished && page.lines.isEmpty {
                return try daemonCall { () throws(ControlClient.Error) in try client.get("/runs/\(runID)") }
            }
        }
    }

    func stored(_ print: (ControlAPI.LogLine) -> Void) throws {
        var after: Int64 = 0
        while true {
            let page = try page(after: after, wait: 0)
            page.lines.forEach(print)
            if page.lines.isEmpty { return }
            after = page.next
        }
    }

    private func page(after: Int64, wait: Int) throws -> ControlAPI.LogPage {
        var query = "after=\(after)&wait=\(wait)"
        if let task { query += "&task=\(task.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? task)" }
        return try daemonCall { () throws(ControlClient.Error) in try client.get("/runs/\(runID)/logs?\(query)") }
    }

    /// `12:00:01 INFO  [task] message`; what a job printed shows its stream (OUT, ERR) instead of the level.
    static func text(_ line: ControlAPI.LogLine) -> String {
        let time = line.time.split(separator: "T").last.map { String($0.prefix(8)) } ?? line.time
        return [time, RunLog.column(level: line.level, stream: line.stream), (line.task.map { "[\($0)] " } ?? "") + line.text]
            .joined(separator: " ")
    }

    /// The run's stored result document (the same JSON as `sloth run -f -o json`), or the headline and
    /// task table `run -f` prints.
    func printResult(_ run: ControlAPI.Run, output: OutputFormat) throws {
        switch output {
        case .json:
            let document: JSONValue? = try? client.get("/runs/\(run.id)/result")
            Swift.print(try document.map(JSONOutput.encode) ?? JSONOutput.encode(run))
        case .text:
            let duration = RunView(run: run).duration.map { " in \(RunDocument.duration($0))" } ?? ""
            Swift.print("workflow \(run.workflow): \(run.state.rawValue)\(duration) (run \(run.id))" + (run.error.map { ": \(TaskTable.oneLine($0))" } ?? ""))
            Swift.print(TaskTable(run).render(), terminator: "")
        }
        if run.state != .succeeded { throw ExitCode(ExitStatus.taskFailed) }
    }
}

/// Lines on stdout that reach a pipe as they are printed (print's stdout is block-buffered there).
enum Console {
    static func line(_ text: String) {
        fflush(nil)  // what print() buffered goes first
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

import ArgumentParser
import Control
import Foundation

/// `sloth runs …`: the run history slothd keeps.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Inspect and cancel runs (via slothd).",
        subcommands: [List.self, Show.self, Logs.self, Cancel.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent runs, newest first.")
        @Option(help: ArgumentHelp("Only runs of this catalog workflow.", valueName: "W")) var workflow: String?
        @Option(help: ArgumentHelp("Only runs fired or triggered by this schedule.", valueName: "S")) var schedule: String?
        @Option(help: ArgumentHelp("Only runs in this stack.", valueName: "S")) var stack: String?
        @Option(help: ArgumentHelp("Only runs in this state: queued, running, succeeded, failed, cancelled, timed_out or interrupted.",
                                   valueName: "STATE"))
        var state: String?
        @Option(parsing: .unconditional, help: ArgumentHelp("Show at most N runs.", valueName: "N")) var limit = 20
        @OptionGroup var connection: WorkflowCommand.Connection

        func validate() throws { try NumberOption.check(limit, "--limit", in: 1...Int.max) }

        func run() throws {
            var query = ["limit=\(limit)"]
            if let workflow { query.append("workflow=\(workflow.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? workflow)") }
            if let schedule { query.append("schedule=\(schedule.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? schedule)") }
            if let stack { query.append("stack=\(stack.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? stack)") }
            if let state { query.append("state=\(state)") }
            let runs: [ControlAPI.Run] = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.get("/runs?\(query.joined(separator: "&"))")
            }
            switch connection.output {
            case .json: print(try JSONOutput.encode(runs))
            case .text:
                let rows = [["ID", "WORKFLOW", "STACK", "STATE", "TRIGGER", "QUEUED", "ENDED", "ERROR"]] + runs.map {
                    [String($0.id), $0.workflow, $0.stack ?? "-", $0.state, $0.trigger, $0.queued_at, $0.ended_at ?? "", $0.error ?? ""]
                }
                print(TextTable.render(rows), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run and its result.")
        @Argument(help: "The run's id (see runs list).") var id: Int64
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let run: ControlAPI.Run = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/runs/\(id)") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(run))
            case .text:
                let rows = [["ID", String(run.id)], ["WORKFLOW", "\(run.workflow) (version \(run.workflow_version ?? "?"))"],
                            ["STACK", run.stack ?? "-"], ["SCHEDULE", run.schedule ?? "-"],
                            ["STATE", run.state], ["TRIGGER", run.trigger], ["QUEUED", run.queued_at], ["STARTED", run.started_at ?? ""],
                            ["ENDED", run.ended_at ?? ""], ["ERROR", run.error ?? ""]]
                print(TextTable.render(rows), terminator: "")
            }
        }
    }

    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A run's log; --follow waits for new lines until the run ends.")
        @Argument(help: "The run's id (see runs list).") var id: Int64
        @Flag(help: "Keep printing new lines as the run writes them, until it ends.") var follow = false
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let follower = RunFollower(client: connection.client, runID: id)
            if follow {
                _ = try follower.follow { print(RunFollower.text($0)) }
                return
            }
            var after: Int64 = 0
            while true {
                let page: ControlAPI.LogPage = try daemonCall { () throws(ControlClient.Error) in
                    try connection.client.get("/runs/\(id)/logs?after=\(after)")
                }
                page.lines.forEach { print(RunFollower.text($0)) }
                if page.lines.isEmpty { return }
                after = page.next
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued or running run (its processes are stopped).")
        @Argument(help: "The run's id (see runs list).") var id: Int64
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let run: ControlAPI.Run = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/runs/\(id)/cancel", ControlClient.Empty())
            }
            print(connection.output == .json ? try JSONOutput.encode(run) : "run \(run.id): cancelling (\(run.state))")
        }
    }
}

/// `sloth status`: what slothd is doing.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Daemon version, uptime, workers and queue.")
    @OptionGroup var connection: WorkflowCommand.Connection

    func run() throws {
        let status: ControlAPI.Status = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/status") }
        switch connection.output {
        case .json: print(try JSONOutput.encode(status))
        case .text:
            let rows = [["VERSION", status.version], ["PID", String(status.pid)], ["UPTIME", "\(status.uptime_seconds)s"],
                        ["WORKERS", "\(status.busy_workers)/\(status.workers) busy"], ["QUEUED", "\(status.queued)/\(status.queue_capacity)"],
                        ["SCHEDULER", status.scheduler], ["SCHEDULES", status.schedules.map(String.init) ?? "-"],
                        ["NEXT FIRE", status.next_fire ?? "-"],
                        ["DATABASE", status.database + (status.database_problem.map { " — NOT WRITABLE: \($0)" } ?? "")]]
            print(TextTable.render(rows), terminator: "")
        }
    }
}

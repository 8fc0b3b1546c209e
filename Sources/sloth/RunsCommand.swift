import ArgumentParser
import Control
import Foundation
import Runner

/// `sloth runs …`: the run history slothd keeps.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Inspect and cancel runs (via slothd).",
        subcommands: [List.self, Show.self, Logs.self, Cancel.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Recent runs, newest first.")
        @Option(help: ArgumentHelp("Only runs of this catalog workflow.", valueName: "W")) var workflow: String?
        @Option(help: ArgumentHelp("Only runs fired or triggered by this schedule.", valueName: "S")) var schedule: String?
        @Option(help: ArgumentHelp("Only runs in this stack.", valueName: "S")) var stack: String?
        @Option(help: ArgumentHelp("Only runs in this state: queued, running, succeeded, failed, timed_out, cancelled, skipped or interrupted.",
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
            if let state { query.append("state=\(state.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? state)") }
            let runs: [ControlAPI.Run] = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.get("/runs?\(query.joined(separator: "&"))")
            }
            switch connection.output {
            case .json: print(try JSONOutput.encode(runs))
            case .text:
                let rows = [["ID", "WORKFLOW", "STACK", "STATE", "TRIGGER", "QUEUED", "DURATION", "ERROR"]] + runs.map {
                    [String($0.id), $0.workflow, $0.stack ?? "-", $0.state.rawValue, $0.trigger.rawValue, String($0.queued_at.prefix(19)),
                     RunView(run: $0).duration.map(RunDocument.duration) ?? "-", $0.error.map(TaskTable.oneLine) ?? ""]
                }
                print(TextTable.render(rows), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One run and its result.")
        @Argument(help: "The run's id (see runs list).") var id: Int64
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let run: ControlAPI.Run = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/runs/\(id)") }
            switch connection.output {
            case .json: print(try JSONOutput.encode(run))
            case .text: print(RunView(run: run).render(), terminator: "")
            }
        }
    }

    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logs",
            abstract: "A run's log: its own lines and what its commands printed (OUT, ERR), each as it was written.")
        @Argument(help: "The run's id (sloth runs list).") var id: Int64
        @Flag(name: [.short, .long], help: "Keep printing new lines as they are written, until the run ends.")
        var follow = false
        @Option(help: ArgumentHelp("Only this task's lines.", valueName: "T")) var task: String?
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let follower = RunFollower(client: connection.client, runID: id, task: task)
            let show: (ControlAPI.LogLine) -> Void = { line in
                Console.line(connection.output == .json ? (try? JSONOutput.encode(line)) ?? "{}" : RunFollower.text(line))
            }
            if follow {
                _ = try follower.follow(show)
            } else {
                try follower.stored(show)
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a queued or running run (its processes are stopped).")
        @Argument(help: "The run's id (see runs list).") var id: Int64
        @OptionGroup var connection: WorkflowCommand.Connection

        func run() throws {
            let run: ControlAPI.Run = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.post("/runs/\(id)/cancel", ControlClient.Empty())
            }
            print(connection.output == .json ? try JSONOutput.encode(run) : "run \(run.id): cancelling (\(run.state.rawValue))")
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
            var rows: [[String]] = [["VERSION", status.version], ["PID", String(status.pid)], ["UPTIME", "\(status.uptime_seconds)s"],
                        ["WORKERS", "\(status.busy_workers)/\(status.workers) busy"], ["QUEUED", "\(status.queued)/\(status.queue_capacity)"],
                        ["SCHEDULER", status.scheduler + (status.scheduler_note.map { " (\($0))" } ?? "")],
                        ["SCHEDULES", status.schedules.map(String.init) ?? "-"],
                        ["NEXT FIRE", status.next_fire ?? "-"],
                        ["DATABASE", status.database + (status.database_problem.map { " — NOT WRITABLE: \($0)" } ?? "")]]
            if let agents = status.agents_connected { rows.append(["AGENTS", "\(agents) connected"]) }
            print(TextTable.render(rows), terminator: "")
            if let running = status.running, !running.isEmpty {
                print("\nRunning:")
                let table = [["ID", "WORKFLOW", "SCHEDULE", "SINCE"]] + running.map { [String($0.id), $0.workflow, $0.schedule ?? "-", $0.started_at] }
                print(TextTable.render(table), terminator: "")
            }
        }
    }
}

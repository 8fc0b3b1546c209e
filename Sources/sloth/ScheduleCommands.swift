import ArgumentParser
import Control
import Foundation
import Scheduler

/// `sloth scheduler add|list|show|enable|disable|remove|trigger`, through slothd.
struct ScheduleAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Schedule a catalog workflow with a cron expression.",
        discussion: "DUR values are written like 90s, 15m, 24h or 1h30m. Zone: --tz, else a CRON_TZ= prefix, else the host's zone.")
    @Argument(help: "The schedule's name.") var name: String
    @Option(help: "The catalog workflow to run.") var workflow: String
    @Option(help: ArgumentHelp("The cron expression (5, 6 or 7 fields, or a nickname), e.g. \"30 2 * * *\".", valueName: "EXPR"))
    var cron: String
    @Option(help: ArgumentHelp("IANA time zone (default: the host's zone).", valueName: "ZONE")) var tz: String?
    @Option(name: .customLong("task"), help: "Run only this task and what it depends on (repeatable).") var tasks: [String] = []
    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter for every task (repeatable).", valueName: "k=v"))
    var params: [String] = []
    @Option(help: "skip (default), buffer-one, buffer-all, cancel-other or allow-all.") var overlap: String?
    @Option(help: "latest (default), skip or all: what runs for fires missed while slothd was down.") var catchup: String?
    @Option(name: .customLong("catchup-window"), parsing: .unconditional, help: ArgumentHelp("How far back missed fires are caught up (default 24h).", valueName: "DUR"))
    var catchupWindow: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Delay each fire by a stable amount below DUR.", valueName: "DUR")) var jitter: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Cancel a run still going after DUR (recorded timed_out).", valueName: "DUR")) var timeout: String?
    @Option(help: "What it is for, shown by show.") var description: String?
    @Option(help: ArgumentHelp("The stack its runs use (default: the active stack, if any; \"\" for none).", valueName: "S"))
    var stack: String?
    @Option(name: .customLong("delegate-to"), help: ArgumentHelp("Run every task without its own delegate_to on this agent.", valueName: "A"))
    var delegateTo: String?
    @Flag(help: "Add it disabled.") var disabled = false
    @OptionGroup var connection: WorkflowCommand.Connection

    func run() throws {
        let body = ControlAPI.AddSchedule(name: name, workflow: workflow, cron: cron, tz: tz, tasks: tasks, params: try Parameters.parse(params),
                                          overlap: overlap, catchup: catchup, catchup_window: catchupWindow, jitter: jitter,
                                          timeout: timeout, description: description, disabled: disabled, stack: stack,
                                          delegate_to: delegateTo)
        let added: ControlAPI.Schedule = try daemonCall { () throws(ControlClient.Error) in try connection.client.post("/schedules", body) }
        try ScheduleView.show(added, connection.output)
    }
}

struct ScheduleList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Schedules by next fire (as systemctl list-timers), with their last fire.",
        discussion: "Disabled schedules come last. Times are in $TZ (else the host's zone), or UTC with --utc; the footer names the zone.")
    @Flag(help: "Show times in UTC.") var utc = false
    @OptionGroup var connection: WorkflowCommand.Connection

    func run() throws {
        let schedules: [ControlAPI.Schedule] = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/schedules") }
        switch connection.output {
        case .json: print(try JSONOutput.encode(ScheduleView.ordered(schedules).map(ScheduleView.listed)))
        case .text:
            print(ScheduleView.table(schedules, now: Int64(Date().timeIntervalSince1970), zone: utc ? .utc : .host()), terminator: "")
        }
    }
}

struct ScheduleShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One schedule: its settings, next fire times and last 10 runs.")
    @Argument(help: "The schedule.") var name: String
    @Option(parsing: .unconditional, help: ArgumentHelp("How many next fire times to print (0-1000).", valueName: "N")) var next = 5
    @OptionGroup var connection: WorkflowCommand.Connection

    func validate() throws { try NumberOption.check(next, "--next", in: 0...1000) }

    func run() throws {
        let shown: ControlAPI.Schedule = try daemonCall { () throws(ControlClient.Error) in
            try connection.client.get("/schedules/\(name)?next=\(next)")
        }
        try ScheduleView.show(shown, connection.output)
    }
}

struct ScheduleEnable: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable", abstract: "Resume a schedule, or with no NAME the whole scheduler (fires of the paused time are not caught up).")
    @Argument(help: "The schedule (none: the whole scheduler).") var name: String?
    @OptionGroup var connection: WorkflowCommand.Connection

    func run() throws { try ScheduleView.switchEnabled(name, enabled: true, note: nil, connection) }
}

struct ScheduleDisable: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable", abstract: "Pause a schedule, or with no NAME the whole scheduler (kept across restarts).")
    @Argument(help: "The schedule (none: the whole scheduler).") var name: String?
    @Option(help: "Why, shown by list and show.") var note: String?
    @OptionGroup var connection: WorkflowCommand.Connection

    func run() throws { try ScheduleView.switchEnabled(name, enabled: false, note: note, connection) }
}

struct ScheduleRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a schedule (its runs stay in the history).")
    @Argument(help: "The schedule.") var name: String
    @OptionGroup var connection: WorkflowCommand.Connection

    func run() throws {
        try daemonCall { () throws(ControlClient.Error) in try connection.client.delete("/schedules/\(name)") }
        if connection.output == .text { print("removed schedule \(name)") }
    }
}

struct ScheduleTrigger: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger", abstract: "Run a schedule now (its overlap policy applies); prints the run.")
    @Argument(help: "The schedule.") var name: String
    @OptionGroup var connection: WorkflowCommand.Connection

    func run() throws {
        let run: ControlAPI.Run = try daemonCall { () throws(ControlClient.Error) in
            try connection.client.post("/schedules/\(name)/trigger", ControlAPI.SetEnabled(note: nil))
        }
        switch connection.output {
        case .json: print(try JSONOutput.encode(run))
        case .text: print("run \(run.id) \(run.state.rawValue)\(run.error.map { ": " + $0 } ?? "")")
        }
    }
}

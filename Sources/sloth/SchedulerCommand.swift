import ArgumentParser
import Foundation
import Scheduler

/// `sloth scheduler …`: schedules. `next` works offline, with no daemon.
struct SchedulerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Inspect and manage cron schedules.",
        subcommands: [ScheduleAdd.self, ScheduleList.self, ScheduleShow.self, ScheduleEnable.self, ScheduleDisable.self,
                      ScheduleRemove.self, ScheduleTrigger.self, SchedulerNextCommand.self]
    )
}

struct SchedulerNextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times of a cron expression (offline; no daemon needed).",
        discussion: """
            TIME is RFC 3339 (2026-03-08T01:30:00-05:00) or a wall time in --tz (2026-03-08T01:30). \
            Fire times are strictly after TIME, with the DST rules of fixed-time and wildcard schedules.
            """
    )

    // Collected rather than parsed so that expressions starting with '-' ("-1 * * * *") reach the cron parser.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The cron expression, e.g. \"30 2 * * *\" or \"@every 90m\".", valueName: "expression"))
    var words: [String] = []

    private var expression: String { (words.first == "--" ? words.dropFirst() : words[...]).joined(separator: " ") }

    @Option(help: ArgumentHelp("IANA time zone (default: the host's zone).", valueName: "ZONE"))
    var tz: String?

    @Option(help: ArgumentHelp("Start after this time (default: now).", valueName: "TIME"))
    var from: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("How many fire times to print (1-1000).", valueName: "N"))
    var count = 5

    @Option(name: [.short, .customLong("output")], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws { try NumberOption.check(count, "--count", in: 1...1000) }

    func run() throws {
        guard !words.isEmpty else { throw ValidationError("Missing expected argument '<expression>'") }
        let parsed: CronExpression
        do {
            parsed = try CronExpression(parsing: expression)
        } catch {
            throw InvalidInput(message: "invalid cron expression \"\(expression)\": \(error)")
        }
        let zone = try resolveZone(named: parsed.zoneName)
        let start = try startInstant(in: zone)
        let fires = parsed.schedule.nextFires(after: start, in: zone, count: count)
        let times = fires.map { RFC3339.format($0, in: zone) }
        switch output {
        case .json:
            let document = NextFiresDocument(expr: expression.trimmingCharacters(in: .whitespaces), tz: zone.identifier, next: times)
            print(try JSONOutput.encode(document))
        case .text:
            print(NextFiresTable(expression: parsed, zone: zone, fires: fires).render(), terminator: "")
        }
    }

    /// A `CRON_TZ=` prefix wins over `--tz`, as in cronie.
    private func resolveZone(named prefixZone: String?) throws -> ZoneRules {
        guard let name = prefixZone ?? tz else { return ZoneRules.host() }
        do {
            return try ZoneRules(identifier: name)
        } catch {
            throw InvalidInput(message: "\(error)")
        }
    }

    private func startInstant(in zone: ZoneRules) throws -> Int64 {
        guard let from else { return Int64(Date().timeIntervalSince1970.rounded(.down)) }
        do {
            switch try RFC3339.parse(from) {
            case .instant(let instant): return instant
            case .wall(let wall): return zone.instant(forWall: wall.secondsSinceEpoch)
            }
        } catch {
            throw InvalidInput(message: "--from: \(error)")
        }
    }
}

/// `scheduler next -o json`: `{"expr": "...", "tz": "Zone", "next": ["2026-03-08T03:00:00-04:00", ...]}`.
struct NextFiresDocument: Codable, Equatable {
    let expr: String
    let tz: String
    let next: [String]
}

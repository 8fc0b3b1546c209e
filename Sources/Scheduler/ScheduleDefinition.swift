/// What an operator asks for when adding a schedule, as text, before any of it is trusted.
public struct ScheduleRequest: Sendable, Equatable {
    public var name: String
    public var cron: String
    public var zone: String?
    public var overlap: String?
    public var catchup: String?
    public var catchupWindow: String?
    public var jitter: String?
    public var timeout: String?

    public init(name: String, cron: String, zone: String? = nil, overlap: String? = nil, catchup: String? = nil,
                catchupWindow: String? = nil, jitter: String? = nil, timeout: String? = nil) {
        (self.name, self.cron, self.zone, self.overlap, self.catchup) = (name, cron, zone, overlap, catchup)
        (self.catchupWindow, self.jitter, self.timeout) = (catchupWindow, jitter, timeout)
    }
}

/// A schedule request that passed every check: what the catalog stores and the book plans from.
public struct ScheduleDefinition: Sendable, Equatable {
    public let name: String
    public let expression: CronExpression
    public let zoneName: String
    public let zone: ZoneRules
    public let overlap: OverlapPolicy
    public let catchup: CatchupPolicy
    public let catchupWindowSeconds: Int64
    public let jitterSeconds: Int64
    public let timeoutSeconds: Int64?

    /// Checks a request against the rules of SPEC §6 without touching anything: `hostZone` is the zone
    /// a schedule without one runs in, `now` the instant from which it must still fire.
    public static func check(_ request: ScheduleRequest, hostZone: String, now: Int64) throws(ScheduleRequestError) -> ScheduleDefinition {
        guard PlainName.isValid(request.name) else { throw .badName(request.name) }
        let expression: CronExpression
        do { expression = try CronExpression(parsing: request.cron) } catch { throw .badCron(request.cron, error) }
        if let prefixed = expression.zoneName, let option = request.zone, option != prefixed {
            throw .conflictingZones(expression: prefixed, option: option)
        }
        let zoneName = expression.zoneName ?? request.zone ?? hostZone
        let zone: ZoneRules
        do { zone = try ZoneRules.named(zoneName) } catch { throw .unknownZone(zoneName, error) }
        // @reboot fires at each start of slothd, never from the calendar.
        guard expression.schedule == .reboot || expression.schedule.nextFire(after: now, in: zone) != nil else {
            throw .neverFires(request.cron)
        }
        return ScheduleDefinition(
            name: request.name, expression: expression, zoneName: zoneName, zone: zone,
            overlap: try choice(request.overlap, default: OverlapPolicy.skip, option: "overlap"),
            catchup: try choice(request.catchup, default: CatchupPolicy.latest, option: "catchup"),
            catchupWindowSeconds: try duration(request.catchupWindow, option: "catchup-window") ?? ScheduleRules.defaultCatchupWindowSeconds,
            jitterSeconds: try duration(request.jitter, option: "jitter") ?? 0,
            timeoutSeconds: try duration(request.timeout, option: "timeout"))
    }

    private static func choice<Policy: RawRepresentable & CaseIterable>(_ text: String?, default fallback: Policy, option: String)
        throws(ScheduleRequestError) -> Policy where Policy.RawValue == String {
        guard let text else { return fallback }
        guard let policy = Policy(rawValue: text) else {
            throw .badChoice(option: option, value: text, allowed: Policy.allCases.map(\.rawValue))
        }
        return policy
    }

    private static func duration(_ text: String?, option: String) throws(ScheduleRequestError) -> Int64? {
        guard let text else { return nil }
        do { return try CronDuration.seconds(parsing: text) } catch { throw .badDuration(option: option, value: text, error) }
    }
}

/// Why a schedule request was refused, naming the option and the text at fault.
public enum ScheduleRequestError: Error, Equatable, CustomStringConvertible {
    case badName(String)
    case badCron(String, CronParseError)
    case conflictingZones(expression: String, option: String)
    case unknownZone(String, ZoneRules.Error)
    case neverFires(String)
    case badChoice(option: String, value: String, allowed: [String])
    case badDuration(option: String, value: String, CronDuration.Error)

    public var description: String {
        switch self {
        case .badName(let name): "invalid schedule name \"\(name)\": use letters, digits, . _ -"
        case .badCron(let text, let error): "invalid cron expression \"\(text)\": \(error)"
        case .conflictingZones(let prefixed, let option): "the expression names zone \(prefixed) but --tz says \(option): give one"
        case .unknownZone(_, let error): error.description
        case .neverFires(let text): "\"\(text)\" never fires (no such date from now on)"
        case .badChoice(let option, let value, let allowed): "invalid --\(option) \"\(value)\": use one of \(allowed.joined(separator: ", "))"
        case .badDuration(let option, let value, let error): "invalid --\(option) \"\(value)\": \(error)"
        }
    }
}

/// Names of schedules and of what else the catalog names (stacks, hooks, agents): ASCII letters, digits, `.`, `_` and `-`, at most 128.
public enum PlainName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }
}

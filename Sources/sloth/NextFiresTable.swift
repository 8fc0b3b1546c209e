import Scheduler

/// Human output of `scheduler next`: the canonical expression, the zone, and one fire time per line.
struct NextFiresTable {
    let expression: CronExpression
    let zone: ZoneRules
    let fires: [Int64]

    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    func render() -> String {
        var rows: [(String, String)] = [("EXPR", expression.description), ("TZ", zone.identifier)]
        if fires.isEmpty {
            let why = expression.schedule == .reboot ? "(only when slothd starts)" : "(never fires)"
            rows.append(("NEXT", why))
        }
        for (index, fire) in fires.enumerated() {
            let offset = zone.offset(at: fire)
            let weekday = Self.weekdays[WallTime(secondsSinceEpoch: fire + Int64(offset)).weekday]
            rows.append((index == 0 ? "NEXT" : "", "\(RFC3339.format(fire, offset: offset))  \(weekday)"))
        }
        return TextTable.render(rows.map { [$0.0, $0.1] })
    }
}

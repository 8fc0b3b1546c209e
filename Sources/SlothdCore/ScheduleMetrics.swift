/// The per-schedule series of `/metrics`, written from the schedule service's own counters when
/// scraped. The Prometheus registry copies a metric family's label table for every new label value,
/// which made the first fire of 10,000 schedules quadratic; here a fire is one integer increment.
enum ScheduleMetrics {
    struct Series: Sendable {
        let name: String
        let kind: String
        let help: String
        let value: @Sendable (ScheduleCounters) -> Int64
    }

    static let counters: [Series] = [
        Series(name: "slothd_schedule_fired_total", kind: "counter", help: "Fires of each schedule: fired") { Int64($0.fired) },
        Series(name: "slothd_schedule_skipped_total", kind: "counter", help: "Fires of each schedule: skipped") { Int64($0.skipped) },
        Series(name: "slothd_schedule_missed_total", kind: "counter", help: "Fires of each schedule: missed") { Int64($0.missed) },
        Series(name: "slothd_schedule_blocked_total", kind: "counter", help: "Fires of each schedule: blocked") { Int64($0.blocked) },
        Series(name: "slothd_schedule_repaired_total", kind: "counter", help: "Repairs the reconciler made to each schedule") {
            Int64($0.repaired)
        },
    ]

    static let lag = Series(name: "slothd_schedule_lag_seconds", kind: "gauge", help: "Seconds since the schedule's next fire was due") {
        $0.lagSeconds
    }

    /// Prometheus text: a counter series appears once it is above zero, the lag gauge for `lagging`
    /// schedules (those overdue now or before, so a recovered schedule reads 0 rather than vanishing).
    static func text(_ counters: [String: ScheduleCounters], lagging: Set<String>) -> [UInt8] {
        let names = counters.keys.sorted()
        var text = ""
        for series in Self.counters {
            let rows = names.compactMap { name -> (String, Int64)? in
                let value = series.value(counters[name]!)
                return value > 0 ? (name, value) : nil
            }
            append(series, rows, to: &text)
        }
        append(lag, lagging.sorted().map { ($0, counters[$0]?.lagSeconds ?? 0) }, to: &text)
        return Array(text.utf8)
    }

    private static func append(_ series: Series, _ rows: [(schedule: String, value: Int64)], to text: inout String) {
        guard !rows.isEmpty else { return }
        text += "# HELP \(series.name) \(series.help)\n# TYPE \(series.name) \(series.kind)\n"
        for row in rows { text += "\(series.name){schedule=\"\(escaped(row.schedule))\"} \(row.value)\n" }
    }

    /// Label values escape backslash, double quote and newline (the exposition format's rule).
    static func escaped(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

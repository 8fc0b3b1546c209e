@testable import SlothdCore
import Testing

@Suite("Per-schedule series of /metrics")
struct ScheduleMetricsTests {
    @Test("counters appear once above zero, sorted by schedule; lag for schedules that lagged")
    func text() {
        var nightly = ScheduleCounters()
        (nightly.fired, nightly.missed) = (3, 1)
        var hourly = ScheduleCounters()
        (hourly.skipped, hourly.lagSeconds) = (2, 45)
        let text = String(decoding: ScheduleMetrics.text(["nightly": nightly, "hourly": hourly, "idle": ScheduleCounters()],
                                                         lagging: ["hourly", "nightly"]), as: UTF8.self)
        #expect(text == """
            # HELP slothd_schedule_fired_total Fires of each schedule: fired
            # TYPE slothd_schedule_fired_total counter
            slothd_schedule_fired_total{schedule="nightly"} 3
            # HELP slothd_schedule_skipped_total Fires of each schedule: skipped
            # TYPE slothd_schedule_skipped_total counter
            slothd_schedule_skipped_total{schedule="hourly"} 2
            # HELP slothd_schedule_missed_total Fires of each schedule: missed
            # TYPE slothd_schedule_missed_total counter
            slothd_schedule_missed_total{schedule="nightly"} 1
            # HELP slothd_schedule_lag_seconds Seconds since the schedule's next fire was due
            # TYPE slothd_schedule_lag_seconds gauge
            slothd_schedule_lag_seconds{schedule="hourly"} 45
            slothd_schedule_lag_seconds{schedule="nightly"} 0

            """)
    }

    @Test("label values escape backslash, quote and newline", arguments: [
        ("plain.name-1", "plain.name-1"), ("a\"b", "a\\\"b"), ("a\\b", "a\\\\b"), ("a\nb", "a\\nb"),
    ])
    func escaping(value: String, expected: String) {
        #expect(ScheduleMetrics.escaped(value) == expected)
    }
}

import Catalog
import Foundation
import Prometheus
import Runner
import Synchronization

/// `GET /metrics`: Prometheus text, every name prefixed `slothd_`. Per-schedule series come from the
/// schedule service's counters (ScheduleMetrics), not from this registry.
public final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let queueDepth: Gauge
    private let busyWorkers: Gauge
    private let runDuration: DurationHistogram
    private let lateness: DurationHistogram

    public init() {
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", help: "Runs waiting for a worker"))
        busyWorkers = registry.makeGauge(descriptor: Self.name("busy_workers", help: "Workers running a run"))
        runDuration = registry.makeDurationHistogram(
            descriptor: Self.name("run_duration", unit: "seconds", help: "Run durations, from queued to ended"),
            buckets: [.milliseconds(10), .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(600), .seconds(3600)])
        lateness = registry.makeDurationHistogram(
            descriptor: Self.name("schedule_lateness", unit: "seconds", help: "Start of scheduled runs after their nominal time"),
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1),
                      .seconds(5), .seconds(60)])
    }

    func scheduleLateness(milliseconds: Int64) {
        lateness.record(.milliseconds(max(milliseconds, 0)))
    }

    func pool(queued: Int, busy: Int) {
        queueDepth.set(Double(queued))
        busyWorkers.set(Double(busy))
    }

    func runEnded(workflow: String, state: RunState, duration: Duration) {
        runCounter(workflow: workflow, state: state).increment()
        runDuration.record(duration)
    }

    /// Made once per (workflow, state): the registry's lookup copies its label table.
    private func runCounter(workflow: String, state: RunState) -> Counter {
        let key = workflow + "\u{0}" + state.rawValue
        return runCounters.withLock { known in
            if let counter = known[key] { return counter }
            let counter = registry.makeCounter(descriptor: Self.name("runs", unit: "total", help: "Finished runs by workflow and final state"),
                                               labels: [("workflow", workflow), ("state", state.rawValue)])
            known[key] = counter
            return counter
        }
    }

    private let runCounters = Mutex<[String: Counter]>([:])

    /// `slothd_NAME[_UNIT]`.
    static func name(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "slothd", metricName: name, unitName: unit, helpText: help)
    }

    /// The registry's series, then `extra` (the schedule service's per-schedule series), then what
    /// workflows recorded with `monitor` / `metrics` (`slothd_workflow_*`).
    func text(appending extra: [UInt8] = []) -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer + extra + Array(WorkflowMetrics.shared.prometheusText().utf8)
    }
}

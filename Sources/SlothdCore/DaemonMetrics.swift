import Catalog
import Foundation
import Prometheus

/// `GET /metrics`: Prometheus text, every name prefixed `slothd_`.
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

    func scheduleFired(_ schedule: String) { scheduleCounter("fired", schedule).increment() }
    func scheduleSkipped(_ schedule: String) { scheduleCounter("skipped", schedule).increment() }
    func scheduleMissed(_ schedule: String, count: Int) { scheduleCounter("missed", schedule).increment(by: Int64(count)) }
    func scheduleBlocked(_ schedule: String) { scheduleCounter("blocked", schedule).increment() }
    func scheduleRepaired(_ schedule: String) { scheduleCounter("repaired", schedule).increment() }

    /// Seconds since the schedule's next fire was due (0 while it is on time).
    func scheduleLag(_ schedule: String, seconds: Int64) {
        registry.makeGauge(descriptor: Self.name("schedule_lag", unit: "seconds", help: "Seconds since the schedule's next fire was due"),
                           labels: [("schedule", schedule)]).set(Double(seconds))
    }

    func scheduleLateness(milliseconds: Int64) {
        lateness.record(.milliseconds(max(milliseconds, 0)))
    }

    private func scheduleCounter(_ what: String, _ schedule: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("schedule_\(what)", unit: "total", help: "Fires of each schedule: \(what)"),
                             labels: [("schedule", schedule)])
    }

    func pool(queued: Int, busy: Int) {
        queueDepth.set(Double(queued))
        busyWorkers.set(Double(busy))
    }

    func runEnded(workflow: String, state: RunState, duration: Duration) {
        registry.makeCounter(descriptor: Self.name("runs", unit: "total", help: "Finished runs by workflow and final state"),
                             labels: [("workflow", workflow), ("state", state.rawValue)]).increment()
        runDuration.record(duration)
    }

    /// `slothd_NAME[_UNIT]`.
    static func name(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "slothd", metricName: name, unitName: unit, helpText: help)
    }

    func text() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

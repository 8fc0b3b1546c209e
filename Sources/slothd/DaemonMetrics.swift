import Foundation
import Prometheus

/// `GET /metrics`: Prometheus text, every name prefixed `slothd_`.
final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let queueDepth: Gauge
    private let busyWorkers: Gauge
    private let runDuration: DurationHistogram

    init() {
        queueDepth = registry.makeGauge(name: "slothd_queue_depth", help: "Runs waiting for a worker")
        busyWorkers = registry.makeGauge(name: "slothd_busy_workers", help: "Workers running a run")
        runDuration = registry.makeDurationHistogram(
            name: "slothd_run_duration_seconds",
            buckets: [.milliseconds(10), .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(600), .seconds(3600)],
            help: "Run durations, queue to end")
    }

    func pool(queued: Int, busy: Int) {
        queueDepth.set(Double(queued))
        busyWorkers.set(Double(busy))
    }

    func runEnded(workflow: String, state: String, duration: Duration) {
        registry.makeCounter(name: "slothd_runs_total", labels: [("workflow", workflow), ("state", state)],
                             help: "Finished runs by workflow and final state").increment()
        runDuration.record(duration)
    }

    func text() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

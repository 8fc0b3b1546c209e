import Foundation
import Synchronization

/// What workflows record with `monitor` / `metrics`: counters, gauges and histograms shared by every
/// run of the process, exported on slothd's `/metrics` as `slothd_workflow_NAME` and by
/// `monitor.export_prometheus()`. Bounded, so a workflow that invents names cannot grow it without end.
public final class WorkflowMetrics: Sendable {
    public static let shared = WorkflowMetrics()
    static let maxSeries = 10_000
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    enum Kind: String { case counter, gauge, histogram }

    struct Series {
        var value = 0.0
        var count = 0
        var bucketCounts = [Int](repeating: 0, count: WorkflowMetrics.buckets.count)
    }

    struct Metric {
        let kind: Kind
        var series: [String: Series] = [:]
        var labels: [String: [(String, String)]] = [:]
    }

    enum Change {
        case add(Double), set(Double), observe(Double)
        var kind: Kind {
            switch self {
            case .add: .counter
            case .set: .gauge
            case .observe: .histogram
            }
        }
    }

    private let metrics = Mutex<[String: Metric]>([:])

    public init() {}

    /// `gaugeAdd` is a gauge's inc/dec; a counter only goes up.
    func record(_ change: Change, name: String, labels: [String: String], gauge gaugeAdd: Bool = false) throws(LuaHostError) {
        try Self.check(name: name, labels: labels)
        let kind: Kind = gaugeAdd ? .gauge : change.kind
        if case .add(let amount) = change, !gaugeAdd, amount < 0 {
            throw LuaHostError("metric '\(name)': a counter cannot go down (use a gauge)")
        }
        let ordered = labels.sorted { $0.key < $1.key }
        let key = ordered.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{0}")
        try metrics.withLock { (all: inout [String: Metric]) throws(LuaHostError) in
            var metric = all[name] ?? Metric(kind: kind)
            guard metric.kind == kind else { throw LuaHostError("metric '\(name)' is a \(metric.kind.rawValue), not a \(kind.rawValue)") }
            if metric.series[key] == nil, all.values.reduce(0, { $0 + $1.series.count }) >= Self.maxSeries {
                throw LuaHostError("metric '\(name)': too many series (at most \(Self.maxSeries) in all)")
            }
            var series = metric.series[key] ?? Series()
            switch change {
            case .add(let amount): series.value += amount
            case .set(let value): series.value = value
            case .observe(let value):
                series.value += value
                for (index, bound) in Self.buckets.enumerated() where value <= bound { series.bucketCounts[index] += 1 }
            }
            series.count += 1
            metric.series[key] = series
            metric.labels[key] = ordered.map { ($0.key, $0.value) }
            all[name] = metric
        }
    }

    /// -> `{name, type, value, count?, sum?, labels}` per series, by name then labels.
    func list(named name: String? = nil) -> [LuaValue] {
        metrics.withLock { all in
            all.filter { name == nil || $0.key == name }.sorted { $0.key < $1.key }.flatMap { metricName, metric in
                metric.series.keys.sorted().map { key -> LuaValue in
                    let series = metric.series[key]!
                    let labels = LuaTable(fields: Dictionary(metric.labels[key]!.map { ($0.0, LuaValue.string($0.1)) }) { a, _ in a })
                    var fields: [String: LuaValue] = ["name": .string(metricName), "type": .string(metric.kind.rawValue),
                                                      "value": .number(series.value), "labels": .table(labels)]
                    if metric.kind == .histogram {
                        fields["count"] = .integer(Int64(series.count))
                        fields["sum"] = .number(series.value)
                    }
                    return .table(LuaTable(fields: fields))
                }
            }
        }
    }

    func reset(_ name: String) { metrics.withLock { _ = $0.removeValue(forKey: name) } }
    func clear() { metrics.withLock { $0.removeAll() } }

    /// Prometheus text exposition, every name prefixed `slothd_workflow_`.
    public func prometheusText() -> String {
        metrics.withLock { all in
            var text = ""
            for (name, metric) in all.sorted(by: { $0.key < $1.key }) {
                let full = "slothd_workflow_" + name
                text += "# TYPE \(full) \(metric.kind.rawValue)\n"
                for key in metric.series.keys.sorted() {
                    let series = metric.series[key]!, labels = metric.labels[key]!
                    guard metric.kind == .histogram else {
                        text += "\(full)\(Self.render(labels)) \(Self.number(series.value))\n"
                        continue
                    }
                    for (index, bound) in Self.buckets.enumerated() {
                        text += "\(full)_bucket\(Self.render(labels + [("le", Self.number(bound))])) \(series.bucketCounts[index])\n"
                    }
                    text += "\(full)_bucket\(Self.render(labels + [("le", "+Inf")])) \(series.count)\n"
                    text += "\(full)_sum\(Self.render(labels)) \(Self.number(series.value))\n"
                    text += "\(full)_count\(Self.render(labels)) \(series.count)\n"
                }
            }
            return text
        }
    }

    private static func render(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        let escaped = labels.map { name, value in
            "\(name)=\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        return "{" + escaped.joined(separator: ",") + "}"
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    private static func check(name: String, labels: [String: String]) throws(LuaHostError) {
        guard valid(name) else { throw LuaHostError("metric name '\(name)' must match [a-zA-Z_][a-zA-Z0-9_]* (at most 100 characters)") }
        guard labels.count <= 16 else { throw LuaHostError("metric '\(name)': at most 16 labels") }
        for (label, value) in labels {
            guard valid(label), label != "le" else { throw LuaHostError("metric '\(name)': label name '\(label)' must match [a-zA-Z_][a-zA-Z0-9_]*") }
            guard value.utf8.count <= 256 else { throw LuaHostError("metric '\(name)': label '\(label)' is longer than 256 bytes") }
        }
    }

    private static func valid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 100, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

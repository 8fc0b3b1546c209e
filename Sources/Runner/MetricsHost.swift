/// `__sloth.metric(op, name, value, labels)`: the Lua side of `monitor` / `metrics` over WorkflowMetrics.
enum MetricsHost {
    static func call(_ args: [LuaValue], metrics: WorkflowMetrics = .shared) throws(LuaHostError) -> [LuaValue] {
        let op = args.at(0).string ?? "", name = args.at(1).string ?? ""
        let amount = args.at(2).double ?? 1
        var labels: [String: String] = [:]
        for (key, value) in args.at(3).table?.fields ?? [:] { labels[key] = value.string ?? "" }
        switch op {
        case "counter": try metrics.record(.add(amount), name: name, labels: labels)
        case "gauge_set": try metrics.record(.set(amount), name: name, labels: labels)
        case "gauge_add": try metrics.record(.add(amount), name: name, labels: labels, gauge: true)
        case "observe": try metrics.record(.observe(amount), name: name, labels: labels)
        case "list": return [LuaTable.list(metrics.list(named: args.at(1).string))]
        case "reset": metrics.reset(name)
        case "clear": metrics.clear()
        case "prometheus": return [.string(metrics.prometheusText())]
        default: throw LuaHostError("metric: unknown operation '\(op)'")
        }
        return [.boolean(true)]
    }
}

import Synchronization

/// Counters for `/metrics`, written as Prometheus text when scraped.
public final class AgentCounters: Sendable {
    let delegated = Atomic<Int>(0)
    let unavailable = Atomic<Int>(0)
    let lost = Atomic<Int>(0)
    let succeeded = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let roundTripMillis = Atomic<Int>(0)

    func recordRoundTrip(millis: Int64, success: Bool) {
        roundTripMillis.add(Int(millis), ordering: .relaxed)
        if success { succeeded.add(1, ordering: .relaxed) } else { failed.add(1, ordering: .relaxed) }
    }

    func text(connected: Int) -> String {
        let results = succeeded.load(ordering: .relaxed) + failed.load(ordering: .relaxed)
        return """
            # HELP slothd_agents_connected Agents connected now
            # TYPE slothd_agents_connected gauge
            slothd_agents_connected \(connected)
            # HELP slothd_delegated_tasks_total Task attempts handed to agents, by how they ended
            # TYPE slothd_delegated_tasks_total counter
            slothd_delegated_tasks_total{outcome="offered"} \(delegated.load(ordering: .relaxed))
            slothd_delegated_tasks_total{outcome="succeeded"} \(succeeded.load(ordering: .relaxed))
            slothd_delegated_tasks_total{outcome="failed"} \(failed.load(ordering: .relaxed))
            slothd_delegated_tasks_total{outcome="agent_lost"} \(lost.load(ordering: .relaxed))
            slothd_delegated_tasks_total{outcome="agent_unavailable"} \(unavailable.load(ordering: .relaxed))
            # HELP slothd_delegated_task_round_trip_seconds From the offer to the agent's result
            # TYPE slothd_delegated_task_round_trip_seconds summary
            slothd_delegated_task_round_trip_seconds_sum \(Double(roundTripMillis.load(ordering: .relaxed)) / 1000)
            slothd_delegated_task_round_trip_seconds_count \(results)

            """
    }
}

@testable import Catalog
import Testing

@Suite("Leases of delegated attempts")
struct AgentLeaseStoreTests {
    /// A fresh database with one running run, and its lease store.
    static func runWithLeases() throws -> (CatalogDatabase, RunStore, Int64, AgentLeaseStore) {
        let database = try temporaryDatabase()
        let runs = RunStore(database: database)
        let run = try runs.start(.init(workflow: "deploy", workflowVersion: nil, trigger: .manual))
        return (database, runs, run, AgentLeaseStore(database: database))
    }

    @Test("a stored lease's result is recorded on its run once, and only with its own fence")
    func settledOnceWithItsFence() throws {
        let (database, runs, run, leases) = try Self.runWithLeases()
        let lease = AgentLeaseStore.Lease(lease: "\(run)/build/7", runID: run, task: "build", agent: "web-01", fence: 7, stack: nil,
                                          offeredAt: database.now())
        try leases.open(lease)
        #expect(try leases.all() == [lease])
        let built = AgentLeaseStore.Outcome(success: true, error: nil, outputJSON: #"{"line":"built"}"#, exitCode: 0)
        var forged = lease
        forged.fence = 6
        let rows: [(lease: AgentLeaseStore.Lease, outcome: AgentLeaseStore.Outcome, recorded: Bool)] = [
            (forged, built, false),
            (lease, built, true),
            (lease, .init(success: false, error: "agent_lost: late", outputJSON: nil, exitCode: nil), false),
        ]
        for row in rows { #expect(try leases.settle(row.lease, row.outcome) == row.recorded, "fence \(row.lease.fence)") }
        let task = try #require(try runs.tasks(run: run).first)
        #expect((task.status, task.agent, task.outputJSON, task.exitCode) == (.success, "web-01", #"{"line":"built"}"#, 0))
        #expect(try leases.all().isEmpty)
        #expect(try runs.logs(run: run).filter { $0.message.contains("reported the task after slothd restarted") }.count == 1)
    }

    @Test("a master without agents loses every stored lease, each recorded as agent_lost")
    func loseAll() throws {
        let (database, runs, run, leases) = try Self.runWithLeases()
        for (task, fence) in [("a", Int64(1)), ("b", 2)] {
            try leases.open(.init(lease: "\(run)/\(task)/\(fence)", runID: run, task: task, agent: "web-01", fence: fence, stack: nil,
                                  offeredAt: database.now()))
        }
        #expect(try leases.loseAll("agent_lost: no listener") == 2)
        #expect(try runs.tasks(run: run).map(\.status) == [.failed, .failed])
        #expect(try leases.loseAll("again") == 0)
    }
}

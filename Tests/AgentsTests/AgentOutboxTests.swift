@testable import Agents
import AgentWire
import Catalog
import Foundation
import Testing

@Suite("What the master keeps for an agent")
struct AgentOutboxTests {
    @Test("an agent that asks without reading the answers is cut off when its outbox is full, not held in memory")
    func unreadOutboxCutsTheAgentOff() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-outbox-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let database = try CatalogDatabase(path: directory + "/slothd.db")
        let (_, token) = try AgentStore(database: database).createToken(name: "web-01")
        let hub = AgentHub(database: database, keyring: SecretKeyring(stateDirectory: directory, environment: [:]))
        let (stream, outbox) = AsyncStream.makeStream(of: Slothd_Agent_V1_MasterMessage.self, bufferingPolicy: .bufferingOldest(8))
        _ = try hub.connect(.with { $0.name = "web-01"; $0.token = token }, address: "127.0.0.1:1", outbox: outbox)
        for request in 1...20 {
            hub.receive(.with { $0.secret = .with { $0.request = UInt64(request); $0.lease = "none"; $0.name = "x" } }, from: "web-01")
        }
        var kept = 0
        for await _ in stream { kept += 1 }
        #expect(kept == 8, "the welcome and 7 answers, then the stream ends")
    }
}

@testable import Catalog
import Foundation
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualMillis: Sendable {
    private let value = Mutex<Int64>(1_800_000_000_000)
    var now: Int64 { value.withLock { $0 } }
    func advance(seconds: Double) { value.withLock { $0 += Int64(seconds * 1000) } }
}

func temporaryDatabase(clock: ManualMillis? = nil) throws -> CatalogDatabase {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-catalog-\(UUID().uuidString)/slothd.db").path
    if let clock { return try CatalogDatabase(path: path, now: { clock.now }) }
    return try CatalogDatabase(path: path)
}

@Suite("The state store")
struct StateStoreTests {
    @Test("a key with a TTL disappears when the clock passes it, and nowhere else")
    func ttlExpires() throws {
        let clock = ManualMillis()
        let store = StateStore(database: try temporaryDatabase(clock: clock))
        try store.set("session", json: "\"abc\"", ttlSeconds: 60)
        try store.set("forever", json: "1")
        clock.advance(seconds: 59)
        #expect(try store.get("session") == "\"abc\"")
        clock.advance(seconds: 2)
        #expect(try store.get("session") == nil)
        #expect(try store.keys() == ["forever"])
    }

    @Test("increment keeps a key's TTL; a non-number is refused with the key's name")
    func increments() throws {
        let clock = ManualMillis()
        let store = StateStore(database: try temporaryDatabase(clock: clock))
        try store.set("hits", json: "1", ttlSeconds: 10)
        #expect(try store.increment("hits", by: 4) == 5)
        clock.advance(seconds: 11)
        #expect(try store.get("hits") == nil)
        #expect(try store.increment("hits", by: 1) == 1)
        try store.set("name", json: "\"x\"")
        #expect(throws: StateStore.Error.notANumber(key: "name")) { try store.increment("name", by: 1) }
    }

    @Test("compare-and-swap, clear by prefix, and scopes that do not see each other")
    func swapsClearsAndScopes() throws {
        let database = try temporaryDatabase()
        let store = StateStore(database: database)
        let staging = StateStore(database: database, scope: "staging")
        #expect(try store.compareAndSwap("status", expected: nil, new: "\"new\""))
        #expect(try !store.compareAndSwap("status", expected: "\"old\"", new: "\"x\""))
        #expect(try store.compareAndSwap("status", expected: "\"new\"", new: "\"done\""))
        try staging.set("status", json: "\"staging\"")
        try store.set("tmp.a", json: "1")
        try store.set("tmp.b", json: "2")
        #expect(try store.clear(prefix: "tmp.") == 2)
        #expect(try store.keys() == ["status"])
        #expect(try staging.get("status") == "\"staging\"")
    }

    @Test("a lock has one owner until released or expired")
    func locks() throws {
        let clock = ManualMillis()
        let store = StateStore(database: try temporaryDatabase(clock: clock))
        #expect(try store.tryLock("deploy", owner: "a", ttlSeconds: 30))
        #expect(try !store.tryLock("deploy", owner: "b", ttlSeconds: 30))
        try store.unlock("deploy", owner: "a")
        #expect(try store.tryLock("deploy", owner: "b", ttlSeconds: 30))
        clock.advance(seconds: 31)
        #expect(try store.tryLock("deploy", owner: "c", ttlSeconds: 30))
    }
}

@Suite("The run store")
struct RunStoreTests {
    @Test("finishing a run records its state and task results together")
    func finish() throws {
        let runs = RunStore(database: try temporaryDatabase())
        let id = try runs.start(.init(workflow: "w", workflowVersion: nil, declaredVersion: "1.0", trigger: .cli))
        #expect(try runs.run(id)?.state == .running)
        let tasks: [RunStore.TaskResult] = [
            .init(name: "a", status: .success, attempts: 1, durationMillis: 3, error: nil, outputJSON: "{}", startedAt: 1000, endedAt: 1003),
            .init(name: "b", status: .failed, attempts: 2, durationMillis: 4, error: "exit status 4", outputJSON: nil, startedAt: 1003,
                  endedAt: 1007, exitCode: 4),
        ]
        try runs.end(id, .init(state: .failed, error: "b: exit status 4", tasks: tasks, resultJSON: "{}"))
        #expect(try runs.run(id)?.state == .failed)
        #expect(try runs.run(id)?.error == "b: exit status 4")
        #expect(try runs.run(id)?.workflowVersion == nil)
        #expect(try runs.run(id)?.declaredVersion == "1.0")
        #expect(try runs.tasks(run: id) == tasks)
        #expect(try runs.tasks(runs: [id, 999]) == [id: tasks])
    }

    @Test("a catalog run keeps its version number; a job's log lines keep their stream and are found by task")
    func versionsAndStreams() throws {
        let runs = RunStore(database: try temporaryDatabase())
        let queued = try runs.queue(.init(workflow: "w", workflowVersion: 3, trigger: .manual))
        #expect(try runs.markStarted(queued.id, declaredVersion: "2.0.0"))
        #expect(try runs.run(queued.id)?.workflowVersion == 3)
        #expect(try runs.run(queued.id)?.declaredVersion == "2.0.0")
        try runs.appendLogs(run: queued.id, [
            .init(at: 1, level: "info", task: "build", stream: "stdout", message: "hi", fieldsJSON: nil),
            .init(at: 2, level: "info", task: "test", stream: "stderr", message: "err", fieldsJSON: nil),
            .init(at: 3, level: "warn", task: nil, message: "run line", fieldsJSON: nil),
        ])
        #expect(try runs.logs(run: queued.id, after: 0, task: "test").map(\.line.stream) == ["stderr"])
        #expect(try runs.logs(run: queued.id, after: 0).map(\.line.message) == ["hi", "err", "run line"])
    }

    @Test("lines a job printed together share a row and come back one by one; a run's own line keeps its newlines")
    func packedJobLines() throws {
        let runs = RunStore(database: try temporaryDatabase())
        let id = try runs.start(.init(workflow: "w", workflowVersion: nil, trigger: .cli))
        let lines: [RunStore.LogLine] = [
            .init(at: 5, level: "info", task: "t", stream: "stdout", message: "one", fieldsJSON: nil),
            .init(at: 5, level: "info", task: "t", stream: "stdout", message: "", fieldsJSON: nil),
            .init(at: 5, level: "info", task: "t", stream: "stdout", message: "three", fieldsJSON: nil),
            .init(at: 5, level: "info", task: "t", stream: "stderr", message: "err", fieldsJSON: nil),
            .init(at: 6, level: "info", task: "t", stream: "stdout", message: "later", fieldsJSON: nil),
            .init(at: 6, level: "info", task: "t", message: "a run line\nwith a newline", fieldsJSON: nil),
        ]
        #expect(RunStore.packed(lines).count == 4)
        try runs.appendLogs(run: id, lines)
        #expect(try runs.logs(run: id) == lines)
        let paged = try runs.logs(run: id, after: 0)
        #expect(paged.map(\.line) == lines)
        #expect(paged.map(\.id) == [1, 1, 1, 2, 3, 4], "lines printed together share their row's id")
        #expect(try runs.logs(run: id, after: 1).map(\.line.message) == ["err", "later", "a run line\nwith a newline"])
    }

    @Test("an unwritable database location is a clear error")
    func cannotOpen() {
        #expect(throws: CatalogDatabase.Error.self) { try CatalogDatabase(path: "/proc/sloth/slothd.db") }
    }
}

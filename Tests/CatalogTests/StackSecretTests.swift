@testable import Catalog
import Foundation
import GRDB
import Testing

@Suite("Stacks and secrets in the store")
struct StackSecretTests {
    private func directory(of database: CatalogDatabase) -> String { (database.path as NSString).deletingLastPathComponent }

    private func stores() throws -> (CatalogDatabase, StackStore, SecretStore) {
        let database = try temporaryDatabase()
        let keyring = SecretKeyring(stateDirectory: directory(of: database), environment: [:])
        return (database, StackStore(database: database), SecretStore(database: database, keyring: keyring))
    }

    @Test("a stack keeps its values; a duplicate name or an unknown key to unset is refused and changes nothing")
    func valuesAndDuplicates() throws {
        let (_, stacks, _) = try stores()
        _ = try stacks.create("prod", description: "Production")
        _ = try stacks.update("prod", set: ["replicas": "3", "region": "\"eu\""], unset: [])
        #expect(throws: StackStore.Error.duplicate("prod")) { try stacks.create("prod", description: "other") }
        // A key to unset that the stack does not hold refuses the whole change, in one transaction.
        #expect(throws: StackStore.Error.unknownKeys("prod", keys: ["absent"])) {
            try stacks.update("prod", set: ["replicas": "4"], unset: ["region", "absent"])
        }
        #expect(try stacks.get("prod").values == ["replicas": "3", "region": "\"eu\""])
        let prod = try stacks.update("prod", set: [:], unset: ["region"])
        #expect(prod.values == ["replicas": "3"])
        #expect(prod.description == "Production")
        #expect(throws: StackStore.Error.unknown("staging")) { try stacks.update("staging", set: ["a": "1"], unset: []) }
    }

    @Test("a secret round-trips, and its row holds no plaintext")
    func roundTrip() throws {
        let (database, stacks, secrets) = try stores()
        _ = try stacks.create("prod", description: nil)
        #expect(try secrets.set("token", stack: "prod", value: "s3cr3t-token", by: "test"))
        #expect(try !secrets.set("token", stack: "prod", value: "s3cr3t-token-2", by: "test"))
        #expect(try secrets.get("token", stack: "prod", by: "test") == "s3cr3t-token-2")
        let sealed = try database.read { db in try Data.fetchOne(db, sql: "SELECT sealed FROM secrets") } ?? Data()
        #expect(sealed.range(of: Data("s3cr3t".utf8)) == nil)
        #expect(try secrets.list(stack: nil).map(\.name) == ["token"])
    }

    @Test("a sealed value moved to another slot fails to open")
    func slotBinding() throws {
        let (database, stacks, secrets) = try stores()
        _ = try stacks.create("prod", description: nil)
        _ = try stacks.create("dev", description: nil)
        try secrets.set("token", stack: "prod", value: "prod-only", by: "test")
        try secrets.set("token", stack: "dev", value: "dev-value", by: "test")
        try secrets.set("other", stack: "prod", value: "x", by: "test")
        try database.write { db in
            try db.execute(sql: "UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE stack = 'prod' AND name = 'token') WHERE stack = 'dev' OR name = 'other'")
        }
        #expect(throws: SecretStore.Error.undecryptable(name: "token", stack: "dev")) { try secrets.get("token", stack: "dev", by: "test") }
        #expect(throws: SecretStore.Error.undecryptable(name: "other", stack: "prod")) { try secrets.get("other", stack: "prod", by: "test") }
    }

    @Test("the key file is made with mode 0600; a key readable by others or of the wrong size is refused")
    func keyFile() throws {
        let (database, _, secrets) = try stores()
        try secrets.set("token", stack: nil, value: "v", by: "test")
        let directory = directory(of: database)
        let path = directory + "/secrets.key"
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        chmod(path, 0o644)
        let fresh = SecretStore(database: database, keyring: SecretKeyring(stateDirectory: directory, environment: [:]))
        #expect(throws: SecretStore.Error.key(.tooOpen(path: path, mode: "644"))) { try fresh.get("token", stack: nil, by: "test") }
        try Data("short".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        #expect(throws: SecretStore.Error.key(.malformed(path: path))) {
            try SecretStore(database: database, keyring: SecretKeyring(stateDirectory: directory, environment: [:])).get("token", stack: nil, by: "test")
        }
    }

    @Test("a key from systemd's credentials directory is used as given and never created")
    func credentialsKey() throws {
        let (database, _, _) = try stores()
        let credentials = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
        let hex = String(repeating: "ab", count: 32)
        FileManager.default.createFile(atPath: credentials.path + "/slothd.key", contents: Data(hex.utf8), attributes: [.posixPermissions: 0o400])
        let keyring = SecretKeyring(stateDirectory: "/nonexistent", environment: ["CREDENTIALS_DIRECTORY": credentials.path])
        #expect(keyring.path == credentials.path + "/slothd.key")
        let secrets = SecretStore(database: database, keyring: keyring)
        try secrets.set("token", stack: nil, value: "from-credentials", by: "test")
        #expect(try secrets.get("token", stack: nil, by: "test") == "from-credentials")
    }

    @Test("with no secret left, a lost key file is no obstacle: a new key starts")
    func freshStartAfterLastSecret() throws {
        let (database, _, secrets) = try stores()
        try secrets.set("a", stack: nil, value: "v", by: "test")
        try secrets.remove("a", stack: nil, by: "test")
        let directory = directory(of: database)
        try FileManager.default.removeItem(atPath: directory + "/secrets.key")
        let fresh = SecretStore(database: database, keyring: SecretKeyring(stateDirectory: directory, environment: [:]))
        try fresh.set("b", stack: nil, value: "w", by: "test")
        #expect(try fresh.get("b", stack: nil, by: "test") == "w")
    }

    @Test("deleting a stack takes its secrets and state in one transaction; schedules using it block the delete")
    func deleteStack() throws {
        let (database, stacks, secrets) = try stores()
        _ = try stacks.create("prod", description: nil)
        try secrets.set("token", stack: "prod", value: "v", by: "test")
        try StateStore(database: database, scope: "prod").set("k", json: "1")
        #expect(throws: StackStore.Error.notEmpty("prod", secrets: 1, stateKeys: 1)) { try stacks.delete("prod", force: false) }
        #expect(try stacks.get("prod").secrets == 1)
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO schedules(name, workflow, cron, zone, stack, overlap, catchup, catchup_window_s, cursor, created_at, updated_at)
                VALUES ('nightly', 'w', '0 0 * * *', 'UTC', 'prod', 'skip', 'latest', 86400, 0, 0, 0)
                """)
        }
        #expect(throws: StackStore.Error.usedBySchedules("prod", schedules: ["nightly"])) { try stacks.delete("prod", force: true) }
        try database.write { db in try db.execute(sql: "DELETE FROM schedules") }
        try stacks.delete("prod", force: true)
        #expect(try secrets.list(stack: nil).isEmpty)
        #expect(try StateStore(database: database, scope: "prod").get("k") == nil)
        let types = try EventStore(database: database).list().map(\.type)
        #expect(types.contains("stack.deleted") && types.contains("secret.created") && types.contains("stack.created"))
    }

    @Test("events about secrets never carry the value")
    func eventsWithoutValues() throws {
        let (database, _, secrets) = try stores()
        try secrets.set("token", stack: nil, value: "hunter2-value", by: "uid 0")
        _ = try secrets.get("token", stack: nil, by: "uid 0")
        try secrets.remove("token", stack: nil, by: "uid 0")
        let events = try EventStore(database: database).list()
        #expect(events.map(\.type) == ["secret.deleted", "secret.accessed", "secret.created"])
        #expect(events.allSatisfy { !$0.dataJSON.contains("hunter2") })
        #expect(throws: SecretStore.Error.unknown(name: "token", stack: nil)) { try secrets.remove("token", stack: nil, by: "uid 0") }
    }

    @Test("rotation re-seals every secret under a new key, which then replaces the key file")
    func rekey() throws {
        let (database, stacks, secrets) = try stores()
        _ = try stacks.create("prod", description: nil)
        try secrets.set("a", stack: "prod", value: "value-a", by: "test")
        try secrets.set("b", stack: nil, value: "value-b", by: "test")
        let directory = directory(of: database)
        let before = try String(contentsOfFile: directory + "/secrets.key", encoding: .utf8)
        let (count, id) = try secrets.rekey(to: nil, by: "test")
        #expect(count == 2)
        let after = try String(contentsOfFile: directory + "/secrets.key", encoding: .utf8)
        #expect(before != after && !FileManager.default.fileExists(atPath: directory + "/secrets.key.next"))
        #expect(SecretKeyring.id(SecretKeyring.parse(Array(after.utf8)) ?? []) == id)
        let fresh = SecretStore(database: database, keyring: SecretKeyring(stateDirectory: directory, environment: [:]))
        #expect(try fresh.get("a", stack: "prod", by: "test") == "value-a")
        #expect(try fresh.get("b", stack: nil, by: "test") == "value-b")
    }

    @Test("a rotation cut off after its commit still opens, and is completed by the next; a foreign key is named as wrong")
    func interruptedRotationAndWrongKey() throws {
        let (database, _, secrets) = try stores()
        try secrets.set("a", stack: nil, value: "value-a", by: "test")
        let directory = directory(of: database)
        let key = directory + "/secrets.key"
        let old = try Data(contentsOf: URL(fileURLWithPath: key))
        _ = try secrets.rekey(to: nil, by: "test")
        try FileManager.default.moveItem(atPath: key, toPath: key + ".next")
        FileManager.default.createFile(atPath: key, contents: old, attributes: [.posixPermissions: 0o600])
        let reader = SecretStore(database: database, keyring: SecretKeyring(stateDirectory: directory, environment: [:]))
        #expect(try reader.get("a", stack: nil, by: "test") == "value-a", "a reader uses .next when it holds the recorded key")
        #expect(FileManager.default.fileExists(atPath: key + ".next"), "and never renames it")
        _ = try reader.rekey(to: nil, by: "test")
        #expect(!FileManager.default.fileExists(atPath: key + ".next"), "the next rotation puts it in place first")
        #expect(try SecretStore(database: database, keyring: SecretKeyring(stateDirectory: directory, environment: [:]))
            .get("a", stack: nil, by: "test") == "value-a")

        try FileManager.default.removeItem(atPath: key)
        FileManager.default.createFile(atPath: key, contents: Data(String(repeating: "cd", count: 32).utf8), attributes: [.posixPermissions: 0o600])
        let foreign = SecretStore(database: database, keyring: SecretKeyring(stateDirectory: directory, environment: [:]))
        #expect {
            try foreign.get("a", stack: nil, by: "test")
        } throws: { error in
            guard case .key(.wrongKey(let path, _, _)) = error as? SecretStore.Error else { return false }
            return path == key
        }
    }
}

@Suite("Event rows")
struct EventStoreTests {
    @Test("listed by exact type, by prefix pattern, or all; cleaned up by age", arguments: [
        (nil as String?, ["stack.created", "secret.deleted", "secret.created"]),
        ("secret.*", ["secret.deleted", "secret.created"]),
        ("secret.created", ["secret.created"]),
        ("secret", []),
    ])
    func filter(type: String?, expected: [String]) throws {
        let clock = ManualMillis()
        let events = EventStore(database: try temporaryDatabase(clock: clock))
        for name in ["secret.created", "secret.deleted", "stack.created"] { try events.record(type: name, dataJSON: "{}") }
        #expect(try events.list(type: type).map(\.type) == expected)
        clock.advance(seconds: 10)
        try events.record(type: "late", dataJSON: "{}")
        #expect(try events.cleanup(before: clock.now - 5_000) == 3)
        #expect(try events.list().map(\.type) == ["late"])
    }
}

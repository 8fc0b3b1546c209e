import Crypto
import Foundation
import GRDB

/// Secrets (SPEC sections 3–5), sealed with AES-256-GCM. The stack and the name are the associated
/// data of each ciphertext, so a sealed value copied into another slot fails to open. A secret belongs
/// to a stack, or to none (stack nil, stored as ""). Values never appear in events or errors.
public struct SecretStore: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible, StorageFailure {
        case unknown(name: String, stack: String?)
        case unknownStack(String)
        case undecryptable(name: String, stack: String?)
        case key(SecretKeyring.Error)
        case newKeyNeeded(path: String)
        case storage(String)
        public var description: String {
            switch self {
            case .unknown(let name, let stack): "no secret named \"\(name)\" \(Self.place(stack))"
            case .unknownStack(let name): "no stack named \"\(name)\" (sloth stack new \(name))"
            case .undecryptable(let name, let stack):
                "secret \"\(name)\" \(Self.place(stack)) cannot be decrypted: it was sealed with another key, or for another slot"
            case .key(let error): error.description
            case .newKeyNeeded(let path):
                "the key comes from systemd credentials (\(path)): give the new key (--new-key-file), then install it as the new credential"
            case .storage(let message): "secret storage: \(message)"
            }
        }

        public static func place(_ stack: String?) -> String { stack.map { "in stack \"\($0)\"" } ?? "outside any stack" }
    }

    /// What `secrets list` shows: never the value.
    public struct Secret: Sendable, Equatable {
        public var name: String
        public var stack: String?
        public var createdAt: Int64
        public var updatedAt: Int64
        public var accessedAt: Int64?
    }

    let database: CatalogDatabase
    let keyring: SecretKeyring

    public init(database: CatalogDatabase, keyring: SecretKeyring) {
        self.database = database
        self.keyring = keyring
    }

    /// Seals and stores the value; true if the secret is new, false if it replaced one.
    @discardableResult
    public func set(_ name: String, stack: String?, value: String, by actor: String) throws(Error) -> Bool {
        try keyring.whileSealing { () throws(Error) -> Bool in
            let key = try keyOrThrow(create: true, sealed: nil)
            let sealed = try Self.seal(value: Data(value.utf8), name: name, stack: stack, key: key)
            return try Error.guarding {
                try database.write { db in
                    try requireStack(db, stack)
                    try Self.recordKey(db, key, keyring: keyring)
                    let now = database.now()
                    let existed = try db.exists("SELECT 1 FROM secrets WHERE stack = ? AND name = ?", [stack ?? "", name])
                    try db.execute(sql: """
                        INSERT INTO secrets(stack, name, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(stack, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                        """, arguments: [stack ?? "", name, sealed, now, now])
                    try EventStore.insert(db, type: existed ? "secret.updated" : "secret.created",
                                          data: ["secret_name": name, existed ? "updated_by" : "created_by": actor], stack: stack, at: now)
                    return !existed
                }
            }
        }
    }

    /// Opens the value, records the access (`secret.accessed`, no value) and returns it.
    public func get(_ name: String, stack: String?, by actor: String, runID: Int64? = nil) throws(Error) -> String {
        let plain: Data
        do {
            plain = try open(name, stack: stack)
        } catch .key(.wrongKey) {
            plain = try open(name, stack: stack)  // a rotation committed between the read and the key: once more
        }
        try Error.guarding {
            try database.write { db in
                let now = database.now()
                try db.execute(sql: "UPDATE secrets SET accessed_at = ? WHERE stack = ? AND name = ?", arguments: [now, stack ?? "", name])
                try EventStore.insert(db, type: "secret.accessed", data: ["secret_name": name, "accessed_by": actor], stack: stack,
                                      runID: runID, at: now)
            }
        }
        return String(decoding: plain, as: UTF8.self)
    }

    /// The row and the id of its key are read together, so they always match each other.
    private func open(_ name: String, stack: String?) throws(Error) -> Data {
        let (sealed, keyID) = try Error.guarding {
            try database.read { db in
                try requireStack(db, stack)
                return (try Data.fetchOne(db, sql: "SELECT sealed FROM secrets WHERE stack = ? AND name = ?", arguments: [stack ?? "", name]),
                        try Self.keyID(db))
            }
        }
        guard let sealed else { throw .unknown(name: name, stack: stack) }
        return try Self.open(sealed, name: name, stack: stack, key: try keyOrThrow(create: false, sealed: keyID))
    }

    /// Names and dates, by stack then name; `stack` nil lists every stack's, "" those outside any stack.
    public func list(stack: String?) throws(Error) -> [Secret] {
        try Error.guarding {
            try database.read { db in
                if let stack { try requireStack(db, stack) }
                return try Row.fetchAll(db, sql: """
                    SELECT stack, name, created_at, updated_at, accessed_at FROM secrets WHERE (?1 IS NULL OR stack = ?1) ORDER BY stack, name
                    """, arguments: [stack]).map {
                    let owner: String = $0["stack"]
                    return Secret(name: $0["name"], stack: owner.isEmpty ? nil : owner, createdAt: $0["created_at"],
                                  updatedAt: $0["updated_at"], accessedAt: $0["accessed_at"])
                }
            }
        }
    }

    public func remove(_ name: String, stack: String?, by actor: String) throws(Error) {
        try Error.guarding {
            try database.write { db in
                try requireStack(db, stack)
                try db.execute(sql: "DELETE FROM secrets WHERE stack = ? AND name = ?", arguments: [stack ?? "", name])
                guard db.changesCount > 0 else { throw Error.unknown(name: name, stack: stack) }
                try EventStore.insert(db, type: "secret.deleted", data: ["secret_name": name, "deleted_by": actor], stack: stack, at: database.now())
            }
        }
    }

    /// Re-seals every secret with a new key (given, or made here) in one transaction, then puts the
    /// key in use. Returns how many secrets were re-sealed and the new key's id.
    public func rekey(to given: [UInt8]?, by actor: String) throws(Error) -> (count: Int, id: String) {
        if given == nil && keyring.fromCredentials { throw .newKeyNeeded(path: keyring.path) }
        return try keyring.whileSealing { () throws(Error) -> (count: Int, id: String) in
            let old = try keyOrThrow(create: true, sealed: nil)
            let new = given ?? SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            do throws(SecretKeyring.Error) { try keyring.stage(new, current: old) } catch { throw .key(error) }
            let count = try Error.guarding {
                try database.write { db in
                    try Self.recordKey(db, old, keyring: keyring)
                    let rows = try Row.fetchAll(db, sql: "SELECT stack, name, sealed FROM secrets")
                    for row in rows {
                        let (owner, name): (String, String) = (row["stack"], row["name"])
                        let stack = owner.isEmpty ? nil : owner
                        let plain = try Self.open(row["sealed"], name: name, stack: stack, key: old)
                        try db.execute(sql: "UPDATE secrets SET sealed = ? WHERE stack = ? AND name = ?",
                                       arguments: [try Self.seal(value: plain, name: name, stack: stack, key: new), owner, name])
                    }
                    try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('secrets.key_id', ?)", arguments: [SecretKeyring.id(new)])
                    try EventStore.insert(db, type: "secret.rekeyed", data: ["key_id": SecretKeyring.id(new), "rekeyed_by": actor],
                                          numbers: ["secrets": Int64(rows.count)], stack: nil, at: database.now())
                    return rows.count
                }
            }
            do throws(SecretKeyring.Error) { try keyring.install(new) } catch { throw .key(error) }
            return (count, SecretKeyring.id(new))
        }
    }

    // MARK: pieces

    private static func seal(value: Data, name: String, stack: String?, key: [UInt8]) throws(Error) -> Data {
        do {
            return try AES.GCM.seal(value, using: SymmetricKey(data: key), authenticating: slot(name, stack)).combined ?? Data()
        } catch {
            throw .storage("cannot seal: \(error)")
        }
    }

    private static func open(_ sealed: Data, name: String, stack: String?, key: [UInt8]) throws(Error) -> Data {
        guard let box = try? AES.GCM.SealedBox(combined: sealed),
              let plain = try? AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: slot(name, stack)) else {
            throw .undecryptable(name: name, stack: stack)
        }
        return plain
    }

    /// The associated data binding a ciphertext to its slot.
    static func slot(_ name: String, _ stack: String?) -> Data {
        Data("slothd-secret-v1\u{0}\(stack ?? "")\u{0}\(name)".utf8)
    }

    /// The key, checked against the id of the key the stored secrets are sealed with (`sealed`; read
    /// here when nil).
    private func keyOrThrow(create: Bool, sealed keyID: String?) throws(Error) -> [UInt8] {
        let expected: String?
        if let keyID { expected = keyID } else { expected = try Error.guarding { try database.read { db in try Self.keyID(db) } } }
        do throws(SecretKeyring.Error) { return try keyring.key(create: create, expected: expected) } catch { throw .key(error) }
    }

    /// The id of the key the secrets are sealed with; nil while there are none (any key may start).
    private static func keyID(_ db: Database) throws -> String? {
        guard try db.exists("SELECT 1 FROM secrets", []) else { return nil }
        return try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'secrets.key_id'")
    }

    /// Inside a sealing transaction: the key must still be the one the stored secrets use; it becomes
    /// the recorded one.
    private static func recordKey(_ db: Database, _ key: [UInt8], keyring: SecretKeyring) throws {
        let id = SecretKeyring.id(key)
        if let recorded = try keyID(db), recorded != id { throw Error.key(.wrongKey(path: keyring.path, id: id, expected: recorded)) }
        try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('secrets.key_id', ?)", arguments: [id])
    }

    private func requireStack(_ db: Database, _ stack: String?) throws {
        guard let stack, !stack.isEmpty else { return }
        guard try db.exists("SELECT 1 FROM stacks WHERE name = ?", [stack]) else { throw Error.unknownStack(stack) }
    }
}

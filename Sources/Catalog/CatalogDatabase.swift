import Foundation
import GRDB

/// The one SQLite database of SPEC section 3 (WAL, busy timeout, foreign keys), migrated on open.
/// The only module that speaks SQL is this one.
public final class CatalogDatabase: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible {
        case cannotOpen(path: String, reason: String)
        public var description: String {
            switch self {
            case .cannotOpen(let path, let reason): "cannot open the database \(path): \(reason)"
            }
        }
    }

    let pool: DatabasePool
    public let path: String
    /// Milliseconds since 1970; injected so that tests control TTLs and timestamps.
    public let now: @Sendable () -> Int64

    public init(path: String, now: @escaping @Sendable () -> Int64 = CatalogDatabase.systemMillis) throws(Error) {
        self.path = path
        self.now = now
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        // GRDB opens write transactions IMMEDIATE, so concurrent writers from several processes queue on
        // the busy timeout instead of failing a lock upgrade. NORMAL is durable enough under WAL.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            // Several processes may open a new database at once (parallel `sloth run`s): one migrates, the rest wait.
            let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            defer { if lock >= 0 { close(lock) } }
            if lock >= 0 { flock(lock, LOCK_EX) }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    public convenience init(location: StateLocation) throws(Error) {
        try self.init(path: location.databasePath)
    }

    public static let systemMillis: @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Append-only: a migration that has landed is never edited; changes come as new migrations.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 runs, state, events") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    workflow TEXT NOT NULL,
                    workflow_version TEXT,
                    schedule TEXT,
                    stack TEXT,
                    trigger TEXT NOT NULL,
                    state TEXT NOT NULL,
                    nominal_at INTEGER,
                    queued_at INTEGER NOT NULL,
                    started_at INTEGER,
                    ended_at INTEGER,
                    error TEXT,
                    file TEXT,
                    result_json TEXT
                );
                CREATE INDEX runs_by_workflow ON runs(workflow, id);
                CREATE TABLE run_tasks (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    duration_ms INTEGER NOT NULL,
                    error TEXT,
                    output_json TEXT,
                    PRIMARY KEY (run_id, name)
                );
                CREATE TABLE run_logs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    at INTEGER NOT NULL,
                    level TEXT NOT NULL,
                    task TEXT,
                    message TEXT NOT NULL,
                    fields_json TEXT
                );
                CREATE INDEX run_logs_by_run ON run_logs(run_id, id);
                CREATE TABLE state (
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value_json TEXT NOT NULL,
                    expires_at INTEGER,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (scope, key)
                );
                CREATE TABLE state_locks (
                    scope TEXT NOT NULL,
                    name TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    expires_at INTEGER NOT NULL,
                    PRIMARY KEY (scope, name)
                );
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    type TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    run_id INTEGER,
                    stack TEXT,
                    data_json TEXT NOT NULL
                );
                CREATE INDEX events_by_type ON events(type, id);
                """)
        }
        migrator.registerMigration("v2 workflow catalog, audit") { db in
            try db.execute(sql: """
                CREATE TABLE workflows (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    description TEXT,
                    tags_json TEXT NOT NULL DEFAULT '[]',
                    active INTEGER NOT NULL DEFAULT 1,
                    current_version INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    last_used_at INTEGER,
                    usage_count INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE workflow_versions (
                    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL,
                    content TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    file_path TEXT,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (workflow_id, version)
                );
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    uid INTEGER,
                    action TEXT NOT NULL,
                    object TEXT NOT NULL,
                    detail TEXT
                );
                CREATE INDEX runs_by_state ON runs(state, id);
                """)
        }
        migrator.registerMigration("v3 schedules") { db in
            try db.execute(sql: """
                CREATE TABLE schedules (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    workflow TEXT NOT NULL,
                    cron TEXT NOT NULL,
                    zone TEXT NOT NULL,
                    tasks_json TEXT NOT NULL DEFAULT '[]',
                    params_json TEXT NOT NULL DEFAULT '{}',
                    stack TEXT,
                    delegate_to TEXT,
                    overlap TEXT NOT NULL,
                    catchup TEXT NOT NULL,
                    catchup_window_s INTEGER NOT NULL,
                    jitter_s INTEGER NOT NULL DEFAULT 0,
                    timeout_s INTEGER,
                    description TEXT,
                    enabled INTEGER NOT NULL DEFAULT 1,
                    note TEXT,
                    cursor INTEGER NOT NULL,
                    fired INTEGER NOT NULL DEFAULT 0,
                    skipped INTEGER NOT NULL DEFAULT 0,
                    missed INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX runs_by_fire ON runs(schedule, nominal_at);
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4 stacks, secrets") { db in
            try db.execute(sql: """
                CREATE TABLE stacks (
                    name TEXT PRIMARY KEY,
                    description TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    runs INTEGER NOT NULL DEFAULT 0,
                    last_run_id INTEGER,
                    last_run_at INTEGER,
                    last_state TEXT,
                    last_duration_ms INTEGER,
                    last_error TEXT,
                    last_outputs_json TEXT
                );
                CREATE TABLE stack_values (
                    stack TEXT NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value_json TEXT NOT NULL,
                    PRIMARY KEY (stack, key)
                );
                CREATE TABLE secrets (
                    stack TEXT NOT NULL,
                    name TEXT NOT NULL,
                    sealed BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    accessed_at INTEGER,
                    PRIMARY KEY (stack, name)
                );
                CREATE INDEX runs_by_stack ON runs(stack, id);
                """)
        }
        migrator.registerMigration("v5 hooks") { db in
            try db.execute(sql: """
                CREATE TABLE hooks (
                    name TEXT PRIMARY KEY,
                    event TEXT NOT NULL,
                    script TEXT NOT NULL,
                    file TEXT,
                    description TEXT,
                    enabled INTEGER NOT NULL DEFAULT 1,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE hook_executions (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    hook TEXT NOT NULL,
                    event_id INTEGER,
                    event_type TEXT NOT NULL,
                    run_id INTEGER,
                    status TEXT NOT NULL,
                    error TEXT,
                    at INTEGER NOT NULL,
                    duration_ms INTEGER NOT NULL
                );
                CREATE INDEX hook_executions_by_hook ON hook_executions(hook, id);
                INSERT OR REPLACE INTO settings(key, value) VALUES ('hooks.cursor', (SELECT coalesce(max(id), 0) FROM events));
                """)
        }
        migrator.registerMigration("v6 process groups, run owners") { db in
            try db.execute(sql: """
                CREATE TABLE run_process_groups (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    pgid INTEGER NOT NULL,
                    boot_id TEXT NOT NULL,
                    PRIMARY KEY (run_id, pgid)
                );
                ALTER TABLE runs ADD COLUMN owner TEXT;
                """)
        }
        // A local run's version column held the workflow's own version string: it moves to
        // declared_version, and workflow_version keeps only catalog version numbers.
        migrator.registerMigration("v7 job output streams, declared versions, task times") { db in
            try db.execute(sql: """
                ALTER TABLE run_logs ADD COLUMN stream TEXT;
                ALTER TABLE runs ADD COLUMN declared_version TEXT;
                UPDATE runs SET declared_version = workflow_version, workflow_version = NULL WHERE trigger IN ('cli', 'hook');
                ALTER TABLE run_tasks ADD COLUMN started_at INTEGER;
                ALTER TABLE run_tasks ADD COLUMN ended_at INTEGER;
                ALTER TABLE run_tasks ADD COLUMN exit_code INTEGER;
                """)
        }
        migrator.registerMigration("v8 workflow entry") { db in
            // entry: which of the file's workflows the catalog workflow runs, when the file defines several.
            try db.execute(sql: """
                ALTER TABLE workflow_versions ADD COLUMN entry TEXT;
                """)
        }
        // Most runs have no schedule and no stack: their rows stay out of those two indexes, which
        // saves a page or two of WAL per run transaction.
        migrator.registerMigration("v9 partial run indexes") { db in
            try db.execute(sql: """
                DROP INDEX runs_by_fire;
                CREATE UNIQUE INDEX runs_by_fire ON runs(schedule, nominal_at) WHERE schedule IS NOT NULL;
                DROP INDEX runs_by_stack;
                CREATE INDEX runs_by_stack ON runs(stack, id) WHERE stack IS NOT NULL;
                """)
        }
        // Agents (SPEC section 8): tokens are kept as SHA-256 hashes only; `agents` is what each agent
        // last said about itself; a delegated task's row names the agent that ran it.
        migrator.registerMigration("v10 agents") { db in
            try db.execute(sql: """
                CREATE TABLE agent_tokens (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER,
                    last_used_at INTEGER
                );
                CREATE TABLE agents (
                    name TEXT PRIMARY KEY,
                    status TEXT NOT NULL,
                    address TEXT,
                    tags_json TEXT NOT NULL DEFAULT '{}',
                    facts_json TEXT NOT NULL DEFAULT '{}',
                    version TEXT,
                    token_id INTEGER,
                    registered_at INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL
                );
                ALTER TABLE run_tasks ADD COLUMN agent TEXT;
                """)
        }
        // A delegated attempt outlives the master that offered it: its lease is a row until its result
        // (or its loss) is recorded, so a restarted master records it once (the fence must match).
        migrator.registerMigration("v11 agent leases") { db in
            try db.execute(sql: """
                CREATE TABLE agent_leases (
                    lease TEXT PRIMARY KEY,
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    task TEXT NOT NULL,
                    agent TEXT NOT NULL,
                    fence INTEGER NOT NULL,
                    stack TEXT,
                    offered_at INTEGER NOT NULL
                );
                """)
        }
        // The dashboard (SPEC section 11): login tokens kept as SHA-256 hashes only, and the dashboard
        // user of a change beside the uid of a control-socket change.
        migrator.registerMigration("v12 dashboard logins") { db in
            try db.execute(sql: """
                CREATE TABLE login_tokens (
                    id INTEGER PRIMARY KEY,
                    user TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER,
                    last_used_at INTEGER
                );
                ALTER TABLE audit ADD COLUMN user TEXT;
                """)
        }
        // A schedule's runs newest first (its last run, its page of runs) without sorting all of them:
        // runs_by_fire orders them by nominal time, and a trigger's run has none.
        migrator.registerMigration("v13 runs by schedule") { db in
            try db.execute(sql: "CREATE INDEX runs_by_schedule ON runs(schedule, id) WHERE schedule IS NOT NULL")
        }
        return migrator
    }

    /// Frees SQLite's page caches and closes idle readers (after loading every schedule at start).
    public func releaseMemory() { pool.releaseMemory() }

    /// One IMMEDIATE transaction, its BEGIN and COMMIT prepared once per connection (GRDB's own `write`
    /// parses both for every transaction, a run's largest fixed cost after its Lua state).
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            try db.execute(cached: "BEGIN IMMEDIATE", [])
            do {
                let result = try body(db)
                try db.execute(cached: "COMMIT", [])
                return result
            } catch {
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                throw error
            }
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// For one SELECT, which SQLite runs atomically on its own: skips the transaction around it
    /// (these reads happen for every run and every log poll).
    func readSingleStatement<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.unsafeRead(body)
    }
}

extension Database {
    /// Whether the query (`SELECT 1 FROM … WHERE …`) finds a row.
    func exists(_ sql: String, _ arguments: StatementArguments) throws -> Bool {
        try Bool.fetchOne(self, sql: "SELECT EXISTS(\(sql))", arguments: arguments) ?? false
    }

    /// Statements run for every run are prepared once per connection: preparing costs more than executing.
    func execute(cached sql: String, _ arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

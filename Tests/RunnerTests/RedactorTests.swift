import Catalog
import Foundation
@testable import Runner
import Testing

@Suite("Masking secrets")
struct RedactorTests {
    /// (secrets read, log lines of one stream, what is kept).
    static let lineRows: [(String, [String], [String], [String])] = [
        ("whole value", ["s3cr3t-token"], ["using token s3cr3t-token now"], ["using token *** now"]),
        ("twice on a line", ["s3cr3t-token"], ["s3cr3t-token and s3cr3t-token"], ["*** and ***"]),
        ("cut after 8 bytes", ["s3cr3t-token"], ["token: s3cr3t-t", "oken, done"], ["token: ***", "***, done"]),
        ("cut after 3 bytes", ["s3cr3t-token"], ["token: s3c", "r3t-token, done"], ["token: s3c", "***, done"]),
        ("a multi-line key printed line by line", ["-----BEGIN KEY-----\nMIIEabc\nxyz\n-----END KEY-----"],
         ["-----BEGIN KEY-----", "MIIEabc", "xyz", "-----END KEY-----", "after"], ["***", "***", "***", "***", "after"]),
        ("a long line of a multi-line value alone", ["first line here\nsecond line here"], ["x second line here"], ["x ***"]),
        ("nothing read, nothing masked", [], ["s3cr3t-token"], ["s3cr3t-token"]),
        ("a value that repeats its start", ["passwordpassword"], ["pw=passwordpassword"], ["pw=***"]),
        ("one character repeated", ["0000000000"], ["id=0000000000"], ["id=***"]),
        ("a piece in the middle followed by text", ["AAAAAAAAAABBBBBBBBBBCCCCCCCCCC"], ["x AAAAAAAAAA", "BBBBBBBBBB y"], ["x ***", "*** y"]),
        ("a cut into a repeating start", ["abcabcabcX"], ["foo abcabcabc", "abcX tail"], ["foo ***", "*** tail"]),
        ("the longest of two ends", ["aaaaaa123456", "bbbbbbbbb123456789X"], ["123456789X rest"], ["*** rest"]),
        ("CRLF line ends dropped", ["line-one\r\nab\r\nline-three"], ["line-one", "ab", "line-three"], ["***", "***", "***"]),
        ("an empty line inside the value", ["abcdefgh\n\nxyz"], ["abcdefgh", "", "xyz"], ["***", "", "***"]),
        ("an opening inside an escaped match", ["secret\"secret"], ["v=secret\\\"secret"], ["v=***"]),
        ("JSON-escaped", ["p@ss\"w0rd"], ["{\"pw\":\"p@ss\\\"w0rd\"}"], ["{\"pw\":\"***\"}"]),
        ("an unrelated line stays", ["s3cr3t-token"], ["hello world"], ["hello world"]),
    ]

    @Test("log lines", arguments: lineRows)
    func lines(row: (String, [String], [String], [String])) {
        let (_, secrets, lines, expected) = row
        let redactor = Redactor()
        secrets.forEach(redactor.add)
        #expect(lines.map { redactor.redactLine($0, stream: "task") } == expected)
    }

    @Test("streams are separate: another task's line does not continue a cut secret")
    func streamsAreSeparate() {
        let redactor = Redactor()
        redactor.add("s3cr3t-token")
        #expect(redactor.redactLine("a s3cr3t-t", stream: "one") == "a ***")
        #expect(redactor.redactLine("oken", stream: "two") == "oken")
        #expect(redactor.redactLine("oken", stream: "one") == "***")
    }

    @Test("outputs and errors: every string, keys included")
    func values() {
        let redactor = Redactor()
        redactor.add("hunter2")
        redactor.add("424242")
        #expect(redactor.redact(LuaValue.integer(424242)) == .string("***"))
        let value = LuaTable.record(["token": .string("hunter2"), "hunter2": .integer(1),
                                     "list": .table(LuaTable(array: [.string("x hunter2 y")]))])
        #expect(redactor.redact(value) == LuaTable.record(["token": .string("***"), "***": .integer(1),
                                                           "list": .table(LuaTable(array: [.string("x *** y")]))]))
        #expect(redactor.redact("failed with hunter2") == "failed with ***")
    }
}

@Suite("Stacks and secrets in a run")
struct StackRunTests {
    @Test("values: the stack's, then the values file, then --param")
    func valuesMerge() async throws {
        let harness = try RunHarness()
        _ = try StackStore(database: harness.database).create("prod", description: nil)
        _ = try StackStore(database: harness.database).update("prod", set: ["replicas": "3", "region": "\"eu\"", "tier": "\"gold\""], unset: [])
        let report = try await harness.run("""
            task('t'):command(function() return true, 'ok', { replicas = values.replicas, region = values.region, tier = values.tier,
              stack = stack.name } end):build()
            """, params: ["tier": "silver"], values: LuaTable.record(["region": .string("us")]), stack: "prod")
        #expect(report.task("t")?.output == LuaTable.record(["replicas": .integer(3), "region": .string("us"), "tier": .string("silver"),
                                                             "stack": .string("prod")]))
    }

    @Test("state is scoped to the stack")
    func stateScope() async throws {
        let harness = try RunHarness()
        _ = try StackStore(database: harness.database).create("prod", description: nil)
        _ = try await harness.run("task('t'):command(function() state.set('k', 'in-prod') end):build()", stack: "prod")
        #expect(try StateStore(database: harness.database, scope: "prod").get("k") == "\"in-prod\"")
        #expect(try harness.state.get("k") == nil)
    }

    @Test("a secret read by a run is masked in its logs, outputs and error")
    func masking() async throws {
        let harness = try RunHarness()
        let keyring = SecretKeyring(stateDirectory: harness.directory.path, environment: [:])
        _ = try StackStore(database: harness.database).create("prod", description: nil)
        try SecretStore(database: harness.database, keyring: keyring).set("token", stack: "prod", value: "s3cr3t-token", by: "test")
        try SecretStore(database: harness.database, keyring: keyring).set("shared", stack: nil, value: "shared-value", by: "test")
        let report = try await harness.run("""
            task('t'):command(function()
              local token = secrets.get('token')
              log.info('token is ' .. token .. ', shared is ' .. secrets.shared)
              print('printed', token)
              error('failed holding ' .. token)
            end):build()
            task('u'):command(function() return true, 'ok', { token = secrets.token, missing = select(2, secrets.get('nope')) } end):build()
            """, stack: "prod")
        #expect(report.task("t")?.error?.contains("failed holding ***") == true)
        #expect(report.task("u")?.output["token"] == .string("***"))
        #expect(report.task("u")?.output["missing"].string?.contains("no secret named \"nope\" in stack \"prod\"") == true)
        let logs = try RunStore(database: harness.database).logs(run: report.runID).map(\.message)
        #expect(logs.contains("token is ***, shared is ***"))
        #expect(logs.contains("printed\t***"), "print goes to the log, masked")
        let stored = try RunStore(database: harness.database).run(report.runID)?.resultJSON ?? ""
        #expect(!stored.contains("s3cr3t") && !stored.contains("shared-value"))
    }

    @Test("a secret read by the file's top level is masked in the error of a run that cannot start")
    func maskedLoadError() async throws {
        let harness = try RunHarness()
        let keyring = SecretKeyring(stateDirectory: harness.directory.path, environment: [:])
        try SecretStore(database: harness.database, keyring: keyring).set("token", stack: nil, value: "top-level-secret", by: "test")
        await #expect {
            _ = try await harness.run("local t = secrets.get('token')\nerror('short token ' .. t)\n")
        } throws: { error in
            "\(error)".contains("short token ***") && !"\(error)".contains("top-level-secret")
        }
    }

    @Test("a run in an unknown stack does not start")
    func unknownStack() async throws {
        let harness = try RunHarness()
        await #expect(throws: RunnerError.unknownStack("nope")) { try await harness.run("task('t'):command(function() end):build()", stack: "nope") }
    }
}

@Suite("sloth.stack from a workflow")
struct SlothStackModuleTests {
    @Test("list and get show the stack's values and last state; delete keeps a stack holding state")
    func stackModule() async throws {
        let harness = try RunHarness()
        _ = try StackStore(database: harness.database).create("prod", description: "Production")
        _ = try StackStore(database: harness.database).update("prod", set: ["replicas": "3"], unset: [])
        try StateStore(database: harness.database, scope: "prod").set("k", json: "1")
        let output = try await harness.output(of: """
            local all = sloth.stack.list()
            local one = sloth.stack.get({ name = "prod" })
            local kept, why = sloth.stack.delete("prod")
            local missing, err = sloth.stack.get("nope")
            return true, "ok", { count = #all, status = one.status, replicas = one.values.replicas, kept = kept == nil, why = why, err = err }
            """)
        #expect(output["count"] == .integer(1) && output["status"] == .string("new") && output["replicas"] == .integer(3))
        #expect(output["kept"] == .boolean(true))
        #expect(output["why"].string?.contains("--force") == true)
        #expect(output["err"].string?.contains("no stack named \"nope\"") == true)
    }
}

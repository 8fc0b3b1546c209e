import Foundation
import Runner
import Testing

/// Workflow code that tries to hurt its host: deep values, escapes from the sandbox, loops that swallow
/// their timeout, pipes and memory bombs. Each ends as a failed (or timed out) task, never a crash.
@Suite("Hostile workflow code, run in process")
struct HostileWorkflowTests {
    /// `deep(n)`: a table nested n levels deep, for the bodies below.
    static let prelude = "local function deep(n) local t = {} local c = t for _ = 2, n do c[1] = {} c = c[1] end return t end\n"

    static func run(_ body: String, options: String = "", harness: RunHarness? = nil) async throws -> RunReport {
        try await (harness ?? RunHarness()).run("\(prelude)task('t')\(options):command(function()\n\(body)\nend)\n")
    }

    @Test("a table nested 200 levels deep round-trips through json.encode and json.decode")
    func deepestRoundTrip() async throws {
        let output = try await RunHarness().output(of: """
            \(Self.prelude)
            local text = json.encode(deep(200))
            local back = json.decode(text)
            local levels, c = 0, back
            while type(c) == 'table' do levels = levels + 1 c = c[1] end
            return true, 'ok', {levels = levels, same = json.encode(back) == text}
            """)
        #expect(output == LuaTable.record(["levels": .integer(200), "same": .boolean(true)]))
    }

    @Test("too deep, self-containing or sandbox-escaping code fails its task with a clear error", arguments: [
        ("json.decode(string.rep('[', 201) .. string.rep(']', 201))", "json.decode: nesting deeper than 200 at byte 201"),
        ("json.decode(string.rep('[', 10000) .. string.rep(']', 10000))", "json.decode: nesting deeper than 200 at byte 201"),
        ("json.encode(deep(201))", "nested deeper than 200 levels"),
        ("local t = {} t.self = t json.encode(t)", "nested deeper than 200 levels"),
        ("state.set('k', deep(201))", "nested deeper than 200 levels"),
        ("event.dispatch('x.y', deep(201))", "nested deeper than 200 levels"),
        ("data.yaml_parse(string.rep('[', 201) .. string.rep(']', 201))", "nesting deeper than 200"),
        ("os.exit(7)", "os.exit is not allowed in a workflow"),
        ("os.setlocale('C')", "os.setlocale is not allowed in a workflow"),
        ("setmetatable({}, {__gc = function() while true do end end})", "__gc metamethods are not allowed in a workflow"),
        ("local t = {} for i = 1, 40 do t = {t, t} end json.encode(t)", "holds more than 1000000 values"),
        ("error(validate.regex(string.rep('a', 40) .. '!', '(a+)+$').error)", "took longer than 250 ms"),
    ])
    func refused(body: String, message: String) async throws {
        let report = try await Self.run(body)
        let task = try #require(report.task("t"))
        #expect(task.status == .failed)
        #expect(task.error?.contains(message) == true, "\(task.error ?? "no error")")
    }

    @Test("native code, the interpreter's hooks and the registry are out of reach; require still fails normally", arguments: [
        "package.loadlib == nil", "package.cpath == ''", "debug.sethook == nil", "debug.gethook == nil",
        "debug.getregistry == nil", "debug.setupvalue == nil", "debug.traceback ~= nil",
        "select(2, pcall(require, 'nosuchmodule_xyz')):find(\"module 'nosuchmodule_xyz' not found\", 1, true) ~= nil",
        "not pcall(require, 'nosuchmodule_xyz')",
        "require('debug') == debug and package.loaded.debug == debug and require('debug').sethook == nil",
    ])
    func sealed(probe: String) async throws {
        #expect(try await RunHarness().output(of: "return true, 'ok', {v = \(probe)}")["v"] == .boolean(true))
    }

    @Test("os.getenv hides slothd's supervisor variables and shows the rest")
    func hiddenVariables() async throws {
        let names = ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"]
        let hidden = names.map { "os.getenv('\($0)') == nil" }.joined(separator: " and ")
        let output = try await RunHarness().output(of: "return true, 'ok', {hidden = \(hidden), path = os.getenv('PATH') ~= nil}")
        #expect(output == LuaTable.record(["hidden": .boolean(true), "path": .boolean(true)]))
    }

    @Test("a pcall loop cannot swallow its task's timeout", arguments: [
        "while true do pcall(function() while true do end end) end",
        "while true do pcall(error, 'x') end",
    ])
    func pcallLoopTimesOut(body: String) async throws {
        let report = try await Self.run(body, options: ":timeout('1s')")
        #expect(report.task("t")?.status == .timedOut)
        // The task's own time: under a loaded test run, setting the harness up may wait longer than the timeout.
        #expect((report.task("t")?.durationMillis ?? .max) < 10_000)
    }

    @Test("io.popen reads lines and everything, closes with Lua's exit triple, and writes to a command's stdin")
    func popen() async throws {
        let harness = try RunHarness()
        let written = harness.directory.appendingPathComponent("popen-\(UUID().uuidString.prefix(8))").path
        let output = try await harness.output(of: #"""
            local p = io.popen("printf 'a\\nb\\n'")
            local first, second, third = p:read('l'), p:read('l'), p:read('l')
            local all = io.popen('echo hi'):read('a')
            local f = io.popen('exit 3')
            f:read('a')
            local ok, how, code = f:close()
            local w = io.popen('cat >\#(written)', 'w')
            w:write('x')
            return true, 'ok', {first = first, second = second, third = third == nil, all = all,
              ok = ok == nil, how = how, code = code, wrote = w:close()}
            """#)
        #expect(output == LuaTable.record([
            "first": .string("a"), "second": .string("b"), "third": .boolean(true), "all": .string("hi\n"),
            "ok": .boolean(true), "how": .string("exit"), "code": .integer(3), "wrote": .boolean(true),
        ]))
        #expect(try String(contentsOfFile: written, encoding: .utf8) == "x")
    }

    @Test("a task's timeout ends an io.popen that would run for long; its process is gone")
    func popenTimesOut() async throws {
        let report = try await Self.run("return true, 'ok', {r = io.popen('sleep 387'):read('a')}", options: ":timeout('1s')")
        // The task's own time: under a loaded test run, setting the harness up may wait longer than the timeout.
        #expect((report.task("t")?.durationMillis ?? .max) < 10_000)
        #expect(report.task("t")?.status != .success)
        #expect(processes(containing: "sleep 387").isEmpty)
    }

    @Test("an xpcall whose handler loops ends at the task's timeout: the handler runs with hooks on")
    func xpcallHandlerTimesOut() async throws {
        let report = try await Self.run("xpcall(function() while true do end end, function() while true do end end)", options: ":timeout('1s')")
        #expect(report.task("t")?.status == .timedOut)
        // The task's own time: under a loaded test run, setting the harness up may wait longer than the timeout.
        #expect((report.task("t")?.durationMillis ?? .max) < 10_000)
    }

    @Test("a Lua module found on package.path loads as text with the globals in reach")
    func requireLuaModule() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mods-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "return { twice = function(x) return tostring(x * 2) end }\n".write(to: directory.appendingPathComponent("twice.lua"), atomically: true, encoding: .utf8)
        let output = try await RunHarness().output(of: """
            package.path = '\(directory.path)/?.lua;' .. package.path
            return true, 'ok', {v = require('twice').twice(21), chunk = load('return x', 'c', 't', {x = 5})()}
            """)
        #expect(output == LuaTable.record(["v": .string("42"), "chunk": .integer(5)]))
    }

    @Test("a memory bomb fails with the memory limit; the next run in the same process succeeds")
    func memoryBomb() async throws {
        let harness = try RunHarness()
        let report = try await Self.run("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 64) .. i end", harness: harness)
        #expect(!report.succeeded)
        let errors = ([report.error] + report.tasks.map(\.error)).compactMap { $0 }.joined(separator: "\n")
        #expect(errors.contains("memory limit exceeded"), "\(errors)")
        #expect(try await Self.run("return true", harness: harness).succeeded)
    }

    @Test("a command run as another user changes only that command's credentials, never slothd's",
          .enabled(if: getuid() == 0 && getpwnam("nobody") != nil, "needs root and the user nobody"))
    func commandAsAnotherUser() async throws {
        let output = try await RunHarness().output(of: """
            local as_nobody = exec.run('id -u', {user = 'nobody', workdir = '/'})
            local as_self = exec.run('id -u')
            return true, 'ok', {nobody = as_nobody.stdout, self = as_self.stdout}
            """)
        #expect(output["nobody"] == .string("\(getpwnam("nobody")!.pointee.pw_uid)\n"))
        #expect(output["self"] == .string("0\n"))
        #expect(getuid() == 0 && geteuid() == 0 && getgid() == 0)
    }
}

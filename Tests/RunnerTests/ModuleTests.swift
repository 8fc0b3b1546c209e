import Catalog
import Foundation
import Runner
import TestSupport
import Testing

@Suite("Built-in modules")
struct ModuleTests {
    @Test("state: JSON values, counters, compare-and-swap, locks, keys and clear")
    func state() async throws {
        let harness = try RunHarness()
        let output = try await harness.output(of: """
            state.set('cfg', {replicas = 3, tags = {'a', 'b'}})
            state.set('n', 1)
            local swapped = state.compare_swap('n', 1, 5)
            local refused = state.compare_swap('n', 1, 6)
            local total = state.increment('n', 2) + state.decrement('other')
            local inside = state.with_lock('deploy', function() return 'inside' end, 5)
            state.set('tmp.a', 1) state.set('tmp.b', 2)
            local keys = state.keys('tmp.')
            local cleared = state.clear('tmp.')
            return true, 'ok', {tag = state.get('cfg').tags[2], swapped = swapped, refused = refused, total = total,
              inside = inside, keys = keys, cleared = cleared, missing = state.get('nope', 'dflt'), exists = state.exists('cfg')}
            """)
        #expect(output == LuaTable.record([
            "tag": .string("b"), "swapped": .boolean(true), "refused": .boolean(false), "total": .integer(6),
            "inside": .string("inside"), "keys": LuaTable.list([.string("tmp.a"), .string("tmp.b")]), "cleared": .integer(2),
            "missing": .string("dflt"), "exists": .boolean(true),
        ]))
        #expect(try harness.state.get("n") == "7")
    }

    @Test("data and crypto give the documented results")
    func dataAndCrypto() async throws {
        let output = try await RunHarness().output(of: """
            local doc = data.json_parse('{"n": [1, 2, 3], "ok": true}')
            local y = data.yaml_parse('name: myapp\\nversion: 1.0\\n')
            local secret = crypto.aes_encrypt('attack at dawn', 'my-encryption-key-32-bytes-long')
            return true, 'ok', {
              third = doc.n[3], ok = doc.ok, name = y.name, encoded = json.encode({b = 1, a = {1, 2}}),
              sha = crypto.sha256('my data'), md5 = crypto.md5('abc'), b64 = crypto.base64_encode('hello world'),
              plain = crypto.aes_decrypt(secret, 'my-encryption-key-32-bytes-long'), hex = crypto.hex_encode('hi'),
              text = data.template('Hello {{ name }} v{{ v.major }}', {name = 'Ana', v = {major = 2}}),
              random = #crypto.random_string(12, 'hex'),
            }
            """)
        #expect(output["third"] == .integer(3))
        #expect(output["ok"] == .boolean(true))
        #expect(output["name"] == .string("myapp"))
        #expect(output["encoded"] == .string("{\"a\":[1,2],\"b\":1}"))
        #expect(output["sha"] == .string("b2167b0aa7ef7794740b055ac7a880a52934aa67ef1ca6887ad81dccefd5b9de"))
        #expect(output["md5"] == .string("900150983cd24fb0d6963f7d28e17f72"))
        #expect(output["b64"] == .string("aGVsbG8gd29ybGQ="))
        #expect(output["plain"] == .string("attack at dawn"))
        #expect(output["hex"] == .string("6869"))
        #expect(output["text"] == .string("Hello Ana v2"))
        #expect(output["random"] == .integer(12))
    }

    @Test("fs: write, read, append, list, stat, copy, move and remove; failures return nil and a reason")
    func files() async throws {
        let harness = try RunHarness()
        let dir = harness.directory.appendingPathComponent("fs").path
        let output = try await harness.output(of: """
            local dir = '\(dir)'
            fs.mkdir(dir .. '/sub')
            fs.write(dir .. '/a.txt', 'one\\n')
            fs.append(dir .. '/a.txt', 'two\\n')
            file.copy(dir .. '/a.txt', dir .. '/b.txt')
            fs.move(dir .. '/b.txt', dir .. '/sub/c.txt')
            fs.chmod(dir .. '/a.txt', '0600')
            local missing, why = fs.read(dir .. '/nope.txt')
            local listing = fs.ls(dir)
            fs.rm(dir .. '/sub')
            return true, 'ok', {text = fs.read(dir .. '/a.txt'), listing = listing, mode = fs.stat(dir .. '/a.txt').mode,
              missing = missing == nil, why = why ~= nil, gone = not fs.exists(dir .. '/sub')}
            """)
        #expect(output == LuaTable.record([
            "text": .string("one\ntwo\n"), "listing": LuaTable.list([.string("a.txt"), .string("sub")]), "mode": .string("0600"),
            "missing": .boolean(true), "why": .boolean(true), "gone": .boolean(true),
        ]))
    }

    @Test("exec: environment, working directory, argv lists, timeouts; os.execute keeps Lua's contract")
    func exec() async throws {
        let output = try await RunHarness().output(of: """
            env.set('FROM_ENV_SET', 'yes')
            local a = exec.run('echo $GREETING $FROM_ENV_SET; pwd', {env = {GREETING = 'hi'}, workdir = '/tmp'})
            local b = exec.run({'printf', '%s-%s', 'x', 'y'})
            local c = exec.run('sleep 5', {timeout = 0.2})
            local ok, how, code = os.execute('exit 3')
            return true, 'ok', {a = a.stdout, b = b.stdout, c = c.success, timed_out = c.timed_out, ok = ok == nil, how = how, code = code,
              notify = exec.run('echo ${NOTIFY_SOCKET:-none}').stdout}
            """)
        #expect(output == LuaTable.record([
            "a": .string("hi yes\n/tmp\n"), "b": .string("x-y"), "c": .boolean(false), "timed_out": .boolean(true),
            "ok": .boolean(true), "how": .string("exit"), "code": .integer(3), "notify": .string("none\n"),
        ]))
    }

    @Test("http: JSON responses are decoded; transport failures return nil and a reason; net.download saves a body")
    func http() async throws {
        let server = try LoopbackHTTPServer(body: "{\"users\": [\"ana\"]}", headers: ["Content-Type": "application/json"])
        let file = try LoopbackHTTPServer(body: "{\"users\": [\"ana\"]}")
        let closed = try LoopbackHTTPServer.closedPort()
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("net-download-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: saved) }
        let output = try await RunHarness().output(of: """
            local r = http.get('http://127.0.0.1:\(server.port)/users', {timeout = 5})
            local none, err = http.get({url = 'http://127.0.0.1:\(closed)/', timeout = 2})
            local downloaded = net.download('http://127.0.0.1:\(file.port)/users', '\(saved)')
            return true, 'ok', {status = r.status_code, success = r.success, first = r.json.users[1], none = none == nil, err = err ~= nil,
                                downloaded = downloaded, same = net == http}
            """)
        #expect(output == LuaTable.record([
            "status": .integer(200), "success": .boolean(true), "first": .string("ana"), "none": .boolean(true), "err": .boolean(true),
            "downloaded": .boolean(true), "same": .boolean(true),
        ]))
        #expect(FileManager.default.contents(atPath: saved) == Data("{\"users\": [\"ana\"]}".utf8))
    }

    @Test("require returns the same tables; values and events are there")
    func requireValuesEvents() async throws {
        let harness = try RunHarness()
        let report = try await harness.run("""
            task('t'):command(function()
              event.dispatch('deploy.done', {version = values.version})
              return true, 'ok', {same = require('goroutine') == goroutine and require('json') == data, version = values.version}
            end)
            """, values: LuaTable.record(["version": .string("1.2")]))
        #expect(report.task("t")?.output == LuaTable.record(["same": .boolean(true), "version": .string("1.2")]))
        let events = try EventStore(database: harness.database).list(type: "deploy.done")
        #expect(events.map(\.dataJSON) == ["{\"version\":\"1.2\"}"])
        #expect(events.first?.runID == report.runID)
    }

    @Test("every run is recorded with its tasks and logs")
    func runIsRecorded() async throws {
        let harness = try RunHarness()
        let report = try await harness.run("task('t'):command(function() log.info('hello', {n = 1}) return false, 'nope' end)")
        let runs = RunStore(database: harness.database)
        #expect(try runs.run(report.runID)?.state == .failed)
        #expect(try runs.run(report.runID)?.trigger == .cli)
        #expect(try runs.tasks(run: report.runID).map(\.status.rawValue) == ["failed"])
        #expect(try runs.logs(run: report.runID).map(\.message) == ["hello"])
        #expect(try runs.logs(run: report.runID).first?.fieldsJSON == "{\"n\":1}")
    }
}

import Foundation
import Testing

@Suite("sloth run and sloth state: bad input and shared state")
struct RunCLITests {
    static func file(_ name: String, _ source: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-cli-\(UUID().uuidString)-\(name)").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("bad input exits 2 with one clear line", arguments: [
        ("syntax.sloth", "local t = task('a')\n:command(function() return true end\n", ":3: ')' expected (to close '(' at line 1) near <eof>"),
        ("method.sloth", "task('a')\n  :descriptoin('x')\n", ":2: unknown task builder method 'descriptoin' on task 'a'"),
        ("two.sloth", "workflow.define('one', {tasks = {task('a'):build()}})\nworkflow.define('two', {tasks = {task('b'):build()}})\n",
         " defines 2 workflows; name one of: one, two"),
    ])
    func badFiles(name: String, source: String, message: String) async throws {
        let path = try Self.file(name, source)
        let result = try await Workspace().sloth(["run", "-f", path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "sloth: \(path)\(message)\n")
    }

    @Test("a malformed --param exits 2")
    func malformedParam() async throws {
        let result = try await Workspace().sloth(["run", "-f", Workspace.examples.appendingPathComponent("hello-world.sloth").path, "--param", "novalue"])
        #expect(result.status == 2)
        #expect(result.stderr == "sloth: malformed --param \"novalue\": expected key=value\n")
    }

    @Test("text output is a table of tasks; logs go to stderr")
    func textOutput() async throws {
        let path = try Self.file("ok.sloth", "task('build'):command(function() log.info('building') return true, 'built' end)\n")
        let result = try await Workspace().sloth(["run", "-f", path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("TASK   STATUS   DURATION  ERROR\nbuild  success  "))
        #expect(result.stderr.contains("INFO  [build] building"))
    }

    @Test("state is atomic across processes: four runs incrementing at once lose nothing")
    func atomicAcrossProcesses() async throws {
        let workspace = try Workspace()
        let path = try Self.file("count.sloth", "task('count'):command(function() for i = 1, 25 do state.increment('hits') end end)\n")
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<4 { group.addTask { try await workspace.sloth(["run", "-f", path]).status } }
            for try await status in group { #expect(status == 0) }
        }
        #expect(try await workspace.sloth(["state", "get", "hits"]).stdout == "100\n")
    }

    @Test("sloth state set, get, list and delete")
    func stateCommands() async throws {
        let workspace = try Workspace()
        #expect(try await workspace.sloth(["state", "set", "config", "{\"replicas\": 3}"]).status == 0)
        #expect(try await workspace.sloth(["state", "set", "name", "api server"]).status == 0)
        #expect(try await workspace.sloth(["state", "get", "config"]).stdout == "{\"replicas\":3}\n")
        #expect(try await workspace.sloth(["state", "list", "-o", "json"]).stdout == "{\"config\":{\"replicas\":3},\"name\":\"api server\"}\n")
        #expect(try await workspace.sloth(["state", "delete", "name"]).status == 0)
        let missing = try await workspace.sloth(["state", "get", "name"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "sloth: no state key \"name\"\n")
        #expect(try await workspace.sloth(["state", "set", "k", "v", "--ttl", "soon"]).status == 2)
    }
}

import Foundation
import Testing

/// Validation at the door (SPEC section 10) through the CLI and a real slothd: what can only fail when it
/// runs is refused with exit 2 and the reason, and nothing is stored or queued.
@Suite("slothd refuses at the door what could only fail later", .serialized)
struct DoorDaemonTests {
    static func file(_ daemon: DaemonProcess, _ name: String, _ source: String) throws -> String {
        let path = daemon.directory.appendingPathComponent("\(name).sloth").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("workflow add and update refuse a file run -f would refuse, with file:line, and store nothing", arguments: [
        ("unknown method", "task('a'):descriptoin('x')\n", ":1: unknown task builder method 'descriptoin' on task 'a'"),
        ("unknown dependency", "task('a')\ntask('b'):depends_on('ghost')\n", ":2: task 'b' depends on unknown task 'ghost'"),
        ("cycle", "task('a'):depends_on('b')\ntask('b'):depends_on('a')\n", ": dependency cycle: a -> b -> a"),
        ("two workflows", "workflow('one'):task('a', 'true')\nworkflow('two'):task('b', 'true')\n",
         " defines 2 workflows (one, two): name the one it provides with --workflow NAME"),
        ("no task", "workflow.define('x', { tasks = {} })\n", ":1: workflow 'x' defines no task"),
        ("top-level error", "local config = nil\nconfig.port = 1\n", ":2: attempt to index a nil value (local 'config')"),
    ])
    func refusedFiles(scenario: String, source: String, message: String) async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let bad = try Self.file(daemon, "bad", source)
        let added = try await daemon.sloth(["workflow", "add", "bad", "--file", bad])
        #expect(added.status == 2, "\(scenario)")
        #expect(added.stderr == "sloth: \(bad)\(message)\n", "\(scenario)")
        #expect(try await daemon.sloth(["workflow", "list", "-o", "json"]).stdout == "[]\n", "\(scenario): nothing stored")

        try await SchedulerDaemonTests.workflow(daemon, "good", "task('a'):command('true')\n")
        let updated = try await daemon.sloth(["workflow", "update", "good", "--file", bad])
        #expect(updated.status == 2, "\(scenario)")
        #expect(updated.stderr == "sloth: \(bad)\(message)\n", "\(scenario)")
        #expect(try await daemon.sloth(["workflow", "history", "good", "-o", "json"]).stdout.contains("\"version\":2") == false)
        #expect(try await daemon.sloth(["run", "good", "-o", "json"]).status == 0, "\(scenario): version 1 still runs")
    }

    @Test("a file with several workflows is stored with --workflow; runs and updates use that one")
    func severalWorkflows() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let two = try Self.file(daemon, "pair", "workflow('one'):task('a', 'true')\nworkflow('two'):task('b', 'true')\n")
        let unknown = try await daemon.sloth(["workflow", "add", "pair", "--file", two, "--workflow", "three"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "sloth: no workflow \"three\"; the file defines: one, two\n")
        #expect(try await daemon.sloth(["workflow", "add", "pair", "--file", two, "--workflow", "two"]).status == 0)
        #expect(try await daemon.sloth(["workflow", "show", "pair"]).stdout.contains("ENTRY        two"))
        let run = try await daemon.sloth(["run", "pair", "-o", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"b\""), "the run is of workflow two")

        // Without --workflow, an update keeps running `two` while the file defines it.
        try "workflow('one'):task('a', 'true')\nworkflow('two'):task('c', 'true')\n".write(toFile: two, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["workflow", "update", "pair", "--file", two]).status == 0)
        #expect(try await daemon.sloth(["run", "pair", "-o", "json"]).stdout.contains("\"c\""))
        #expect(try await daemon.sloth(["workflow", "update", "pair", "--file", two, "--workflow", "one"]).status == 0)
        #expect(try await daemon.sloth(["run", "pair", "-o", "json"]).stdout.contains("\"a\""))
    }

    @Test("an unknown --task is refused by run and scheduler add, naming the tasks; nothing is queued or stored")
    func unknownTask() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let path = try Self.file(daemon, "ci", "task('build'):command('true')\ntask('test'):depends_on('build'):command('true')\n")
        #expect(try await daemon.sloth(["workflow", "add", "ci", "--file", path]).status == 0)
        let message = "sloth: \(path): workflow 'ci' has no task 'nosuch' (its tasks: build, test)\n"
        let run = try await daemon.sloth(["run", "ci", "--task", "nosuch"])
        #expect(run.status == 2)
        #expect(run.stderr == message)
        let scheduled = try await daemon.sloth(["scheduler", "add", "nightly", "--workflow", "ci", "--cron", "@daily", "--task", "nosuch"])
        #expect(scheduled.status == 2)
        #expect(scheduled.stderr == message)
        #expect(try await daemon.sloth(["runs", "list", "-o", "json"]).stdout == "[]\n", "no run recorded")
        #expect(try await daemon.sloth(["scheduler", "list", "-o", "json"]).stdout == "[]\n", "no schedule stored")
        #expect(try await daemon.sloth(["run", "ci", "--task", "test", "-o", "json"]).status == 0)
        #expect(try await daemon.sloth(["scheduler", "add", "n", "--workflow", "ci", "--cron", "@daily", "--task", "test"]).status == 0)
    }

    @Test("runs list refuses a filter that names nothing; what the history knows stays listable", arguments: [
        (["--workflow", "nosuch"], "sloth: no workflow named \"nosuch\" in the catalog or the run history\n"),
        (["--schedule", "nosuch"], "sloth: no schedule named \"nosuch\" (and no run of one in the history)\n"),
        (["--state", "faild"], "sloth: unknown run state \"faild\": use one of queued running succeeded failed timed_out cancelled skipped interrupted\n"),
        (["--stack", "nosuch"], "sloth: no stack named \"nosuch\" (sloth stack new nosuch)\n"),
    ])
    func runFilters(arguments: [String], message: String) async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let listed = try await daemon.sloth(["runs", "list"] + arguments)
        #expect(listed.status == 2)
        #expect(listed.stderr == message)
        let api = try await daemon.sloth(["runs", "list", "-o", "json"] + arguments)
        #expect(api.status == 2 && api.stdout.isEmpty)

        try await SchedulerDaemonTests.workflow(daemon, "gone", "task('a'):command('true')\n")
        #expect(try await daemon.sloth(["run", "gone", "-o", "json"]).status == 0)
        #expect(try await daemon.sloth(["workflow", "remove", "gone"]).status == 0)
        let history = try await daemon.sloth(["runs", "list", "--workflow", "gone", "--state", "succeeded", "-o", "json"])
        #expect(history.status == 0 && history.stdout.contains("\"workflow\":\"gone\""), "a removed workflow's runs stay listable")
    }

    @Test("stack unset of a key the stack does not hold exits 2 naming it, and removes nothing")
    func stackUnset() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await daemon.sloth(["stack", "new", "prod"]).status == 0)
        #expect(try await daemon.sloth(["stack", "set", "prod", "region=eu", "size=3"]).status == 0)
        let unset = try await daemon.sloth(["stack", "unset", "prod", "region", "nokey", "other"])
        #expect(unset.status == 2)
        #expect(unset.stderr == "sloth: stack \"prod\" has no values \"nokey\", \"other\" (nothing was removed)\n")
        let shown = try await daemon.sloth(["stack", "show", "prod", "-o", "json"]).stdout
        #expect(shown.contains("\"region\":\"eu\"") && shown.contains("\"size\":3"))
        #expect(try await daemon.sloth(["stack", "unset", "prod", "region"]).status == 0)
    }

    @Test("a delegated task fails as agent_unavailable through slothd too, never running here")
    func delegated() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let marker = daemon.directory.appendingPathComponent("ran").path
        try await SchedulerDaemonTests.workflow(daemon, "remote", "task('t'):delegate_to('web-01'):command('touch \(marker)')\n")
        let run = try await daemon.sloth(["run", "remote", "-o", "json"])
        #expect(run.status == 3)
        #expect(run.stdout.contains("agent_unavailable: no eligible agent for agent \\\"web-01\\\" (only a slothd started with --agents-listen has agents)"))
        try await SchedulerDaemonTests.workflow(daemon, "local", "task('t'):command('touch \(marker)')\n")
        let forced = try await daemon.sloth(["run", "local", "--delegate-to", "db-01", "-o", "json"])
        #expect(forced.status == 3)
        #expect(forced.stdout.contains("no eligible agent for agent \\\"db-01\\\""))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}

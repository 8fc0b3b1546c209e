import Foundation
import Testing

@Suite("Hooks through slothd", .serialized)
struct HookDaemonTests {
    static let eventsExample = Workspace.examples.appendingPathComponent("events.sloth").path
    static let deployLog = Workspace.examples.appendingPathComponent("hooks/deploy-log.lua").path

    /// Polls until `check` holds: the hook runs asynchronously after the event row is written.
    private func eventually(_ check: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await check() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("events.sloth: the deploy-log hook runs on deploy.completed, writes its state, and its execution is recorded")
    func eventsExample() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let added = try await daemon.sloth(["hook", "add", "deploy-log", "--event", "deploy.completed", "--script", Self.deployLog])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try await daemon.sloth(["hook", "add", "all-deploys", "--event", "deploy.*", "--script", Self.deployLog]).status == 0)
        #expect(try await daemon.sloth(["hook", "disable", "all-deploys"]).status == 0)
        let run = try await daemon.sloth(["run", "-f", Self.eventsExample, "-o", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try await eventually { try await daemon.sloth(["state", "get", "last_deploy"]).stdout == "api-server\n" })
        let shown = try await daemon.sloth(["hook", "show", "deploy-log", "-o", "json"])
        let document = (try? JSONSerialization.jsonObject(with: Data(shown.stdout.utf8))) as? [String: Any] ?? [:]
        let executions = document["executions"] as? [[String: Any]] ?? []
        #expect(executions.count == 1)
        #expect(executions.first?["status"] as? String == "success" && executions.first?["event_type"] as? String == "deploy.completed")
        let disabled = try await daemon.sloth(["hook", "show", "all-deploys", "-o", "json"]).stdout
        #expect(!disabled.contains("\"executions\":[{"), "a disabled hook does not run")
    }

    @Test("hooks run through the worker pool: with one worker busy, a hook's run waits queued, then runs")
    func hooksShareTheWorkers() async throws {
        let daemon = try DaemonProcess(extraArguments: ["--workers", "1"])
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await daemon.sloth(["hook", "add", "deploy-log", "--event", "deploy.completed", "--script", Self.deployLog]).status == 0)
        try await SchedulerDaemonTests.workflow(daemon, "long", "task('t'):command('sleep 378')\n")
        let long = try JSONDecoder().decode(SchedulerDaemonTests.Run.self,
                                            from: Data(try await daemon.sloth(["run", "long", "--detach", "-o", "json"]).stdout.utf8))
        #expect(try await eventually { try await daemon.sloth(["runs", "list", "--state", "running"]).stdout.contains("long") })
        #expect(try await daemon.sloth(["run", "-f", Self.eventsExample, "-o", "json"]).status == 0)
        #expect(try await eventually {
            try await daemon.sloth(["runs", "list", "--state", "queued", "-o", "json"]).stdout.contains("\"trigger\":\"hook\"")
        }, "the hook's run waits for the busy worker")
        #expect(try await daemon.sloth(["state", "get", "last_deploy"]).stdout != "api-server\n")
        #expect(try await daemon.sloth(["runs", "cancel", String(long.id)]).status == 0)
        #expect(try await eventually { try await daemon.sloth(["state", "get", "last_deploy"]).stdout == "api-server\n" })
    }

    @Test("a hook whose own run dispatches matching events (even from its top level) runs once per outside event")
    func noLoop() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let script = daemon.directory.appendingPathComponent("loop.lua").path
        try """
            event.dispatch("loop.again", {})
            function on_event() event.dispatch("loop.again", {}) state.increment("loop_runs") return true end
            """.write(toFile: script, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["hook", "add", "loop", "--event", "loop.*", "--script", script]).status == 0)
        let workflow = daemon.directory.appendingPathComponent("start.sloth").path
        try "task('t'):command(function() event.dispatch('loop.start', {}) end):build()\n".write(toFile: workflow, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["run", "-f", workflow]).status == 0)
        #expect(try await eventually { try await daemon.sloth(["state", "get", "loop_runs"]).stdout == "1\n" })
        let later = try await daemon.sloth(["run", "-f", workflow])
        #expect(later.status == 0)
        #expect(try await eventually { try await daemon.sloth(["state", "get", "loop_runs"]).stdout == "2\n" })
        let events = try await daemon.sloth(["events", "list", "--type", "loop.*", "-o", "json"])
        #expect(events.stdout.components(separatedBy: "\"loop.again\"").count - 1 == 4, "two per hook run, none dispatched again")
    }

    @Test("a workflow.failed hook hears of a failed run, with its failed tasks; task.* and system.* rows are recorded")
    func runEvents() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let script = daemon.directory.appendingPathComponent("alert.lua").path
        try """
            function on_event()
              state.set("alert", event.data.workflow_name .. ":" .. event.data.failed_tasks[1] .. ":" .. tostring(event.run_id))
            end
            """.write(toFile: script, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["hook", "add", "alert", "--event", "workflow.failed", "--script", script]).status == 0)
        let workflow = daemon.directory.appendingPathComponent("broken.sloth").path
        try "task('boom'):command(function() error('no disk') end):build()\n".write(toFile: workflow, atomically: true, encoding: .utf8)
        let run = try await daemon.sloth(["run", "-f", workflow, "-o", "json"])
        #expect(run.status == 3)
        let runID = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["run_id"] as? Int ?? -1
        #expect(try await eventually { try await daemon.sloth(["state", "get", "alert"]).stdout == "broken:boom:\(runID)\n" })
        let tasks = try await daemon.sloth(["events", "list", "--type", "task.*"]).stdout
        #expect(tasks.contains("task.failed") && tasks.contains("no disk"))
        #expect(try await daemon.sloth(["events", "list", "--type", "system.startup"]).stdout.contains("system.startup"))
        #expect(try await daemon.sloth(["workflow", "add", "broken", "--file", workflow]).status == 0)
        #expect(try await daemon.sloth(["scheduler", "add", "nightly", "--workflow", "broken", "--cron", "0 3 * * *"]).status == 0)
        #expect(try await daemon.sloth(["scheduler", "disable", "nightly"]).status == 0)
        let schedule = try await daemon.sloth(["events", "list", "--type", "schedule.*"]).stdout
        #expect(schedule.contains("schedule.created") && schedule.contains("schedule.disabled"))
    }

    @Test("hook test runs on a mock event; a failing hook exits 5, bad input exits 2")
    func testCommand() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await daemon.sloth(["hook", "add", "deploy-log", "--event", "deploy.*", "--script", Self.deployLog]).status == 0)
        let ok = try await daemon.sloth(["hook", "test", "deploy-log", "--event-type", "deploy.completed",
                                         "--mock-data", #"{"service": "web", "deploy_id": "d-1"}"#])
        #expect(ok.status == 0 && ok.stdout.contains("success"), "\(ok.stdout)\(ok.stderr)")
        #expect(try await daemon.sloth(["state", "get", "last_deploy"]).stdout == "web\n")
        let failed = try await daemon.sloth(["hook", "test", "deploy-log", "--event-type", "deploy.completed", "--mock-data", "{}"])
        #expect(failed.status == 5)
        #expect(failed.stdout.contains("deploy-log.lua:4"), "the error names the script's line: \(failed.stdout)")
        #expect(try await daemon.sloth(["hook", "test", "deploy-log", "--event-type", "x", "--mock-data", "[1]"]).status == 2)
        #expect(try await daemon.sloth(["hook", "add", "deploy-log", "--event", "x", "--script", Self.deployLog]).status == 2)
        #expect(try await daemon.sloth(["hook", "add", "bad", "--event", "bad type!", "--script", Self.deployLog]).status == 2)
        let broken = daemon.directory.appendingPathComponent("broken.lua").path
        try "function on_event(\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let syntax = try await daemon.sloth(["hook", "add", "broken", "--event", "x", "--script", broken])
        #expect(syntax.status == 2 && syntax.stderr.contains("broken.lua"))
        let handlerless = daemon.directory.appendingPathComponent("handlerless.lua").path
        try "return 42\n".write(toFile: handlerless, atomically: true, encoding: .utf8)
        let refused = try await daemon.sloth(["hook", "add", "handlerless", "--event", "x", "--script", handlerless])
        #expect(refused.status == 2 && refused.stderr.contains("the hook script returned a number"), "\(refused.stderr)")
        #expect(try await daemon.sloth(["hook", "show", "nope"]).status == 2)
    }
}

import Catalog
import Foundation
import Runner
import Testing

/// The forms Sloth Runner users write (SPEC section 5, "Sloth Runner compatibility"): each runs as its
/// author meant, or is refused with what is wrong and where.
@Suite("Sloth Runner's forms")
struct SlothRunnerFormsTests {
    @Test("workflow forms from Sloth Runner's documents run every task they define, in dependency order", arguments: [
        ("a #! first line", "#!/usr/bin/env sloth-runner\ntask('a'):command(function() return true end):build()\ntask('b'):depends_on('a'):command(function() return true end):build()"),
        ("tasks keyed by name", "workflow.define('w', { tasks = { b = { depends_on = {'a'}, command = function() return true end }, a = { run = function() return true end } } })"),
        ("plain task tables in the list", "workflow.define('w', { tasks = { {name = 'a', command = function() return true end}, {name = 'b', run = 'true', depends_on = {'a'}} } })"),
        ("task() given a table", "local a = task({name = 'a', run = function() return true end})\nworkflow.define('w', { tasks = { a, task('b'):depends_on(a):command(function() return true end):build() } })"),
        ("depends_on a built task and a list of them", "local a = task('a'):command(function() return true end):build()\nlocal x = task('x'):command(function() return true end):build()\nlocal b = task('b'):depends_on({a, x}):command(function() return true end):build()\nworkflow.define('w', { tasks = {a, x, b} })"),
        ("depends_on a builder", "local a = task('a'):command(function() return true end)\nworkflow.define('w', { tasks = { a, task('b'):depends_on(a):command(function() return true end) } })"),
        (":build() on a workflow builder", "workflow.define('w'):tasks({ task('a'):command(function() return true end):build(), task('b'):depends_on('a'):command(function() return true end):build() }):build()"),
    ])
    func forms(_ scenario: String, source: String) async throws {
        let report = try await RunHarness().run(source, file: "forms.sloth")
        #expect(report.succeeded, "\(scenario): \(report.error ?? "")")
        #expect(report.task("a")?.status == .success, "\(scenario)")
        #expect(report.task("b")?.status == .success, "\(scenario)")
    }

    @Test("a dependency given as a task object is kept: b does not run when a fails")
    func dependencyObjectIsKept() async throws {
        let report = try await RunHarness().run("""
            local a = task('a'):command(function() return false, 'no' end):build()
            workflow.define('w', { tasks = { a, task('b'):depends_on(a):command(function() return true end):build() } })
            """)
        #expect(report.task("b")?.status == .skipped)
    }

    @Test("forms that cannot work are refused with the file and line and what is wrong", arguments: [
        ("workflow.define('w', { tasks = { a = { comand = 'true' } } })", "forms.sloth:1: task 'a': unknown field 'comand'"),
        ("workflow.define('w', { tasks = { 42 } })", "forms.sloth:1: tasks[1] is not a task"),
        ("task('a'):depends_on(7):build()", "forms.sloth:1: depends_on expects a task, a task name or a list of them"),
        ("task('a'):user(''):build()", "forms.sloth:1: user expects a user name"),
    ])
    func refused(source: String, message: String) async throws {
        await #expect { try await RunHarness().run(source, file: "forms.sloth") } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("exec.run's result is also its stdout, for workflows that use it as a string")
    func execResultAsString() async throws {
        let output = try await RunHarness().output(of: """
            local r = exec.run("echo hi")
            return true, "ok", { concat = r .. "x", text = tostring(r), length = #r, match = r:match("h(i)"), success = r.success,
                                 code = r.exit_code, stdout = r.stdout, upper = r:upper() }
            """)
        #expect(output == LuaTable.record([
            "concat": .string("hi\nx"), "text": .string("hi\n"), "length": .integer(3), "match": .string("i"), "success": .boolean(true),
            "code": .integer(0), "stdout": .string("hi\n"), "upper": .string("HI\n"),
        ]))
    }

    @Test("this.workdir ensure() creates the declared workdir, cleanup() removes it; without :workdir they refuse")
    func workdirEnsureAndCleanup() async throws {
        let harness = try RunHarness()
        let dir = harness.directory.appendingPathComponent("build/out").path
        let report = try await harness.run("""
            task('a'):workdir('\(dir)'):command(function(this)
              this.workdir.ensure()
              local made = fs.is_dir(this.workdir.get())
              this.workdir:cleanup()
              return true, 'ok', { made = made, gone = not fs.exists('\(dir)') }
            end):build()
            task('b'):command(function(this) this.workdir.cleanup() end):build()
            task('c'):workdir('/'):command(function(this) this.workdir.cleanup() end):build()
            """)
        #expect(report.task("a")?.output == LuaTable.record(["made": .boolean(true), "gone": .boolean(true)]))
        #expect(report.task("b")?.error?.contains("this.workdir.cleanup(): task 'b' declares no :workdir(path)") == true)
        #expect(report.task("c")?.error?.contains("this.workdir.cleanup(): refusing to remove / (it is / or holds the directory") == true)
    }

    @Test(":user(name) runs the task's commands as that user", .enabled(if: getuid() == 0, "switching users needs root"))
    func taskUser() async throws {
        let report = try await RunHarness().run("task('a'):user('nobody'):command(function() return true, 'ok', { who = exec.run('id -un').stdout } end):build()")
        #expect(report.task("a")?.output == LuaTable.record(["who": .string("nobody\n")]))
    }

    @Test("a failed require names the module and the caller's line", arguments: [
        ("require('nosuchmodule')", "forms.sloth:1: module 'nosuchmodule' not found: not built in, and no file on package.path (tried "),
        ("\nlocal k = require('kubernetes')", "forms.sloth:2: module 'kubernetes' is not a module slothd provides (see docs/modules.md, \"Not yet\")"),
    ])
    func requireFailure(source: String, message: String) async throws {
        await #expect { try await RunHarness().run(source, file: "forms.sloth") } throws: { error in
            "\(error)".contains(message)
        }
    }

    /// Runs `script` as the hook `h` on a `task.failed` event of task "build" in workflow "deploy".
    private func hook(_ script: String) async throws -> RunReport {
        let harness = try RunHarness()
        var request = RunRequest(file: "h.lua", source: HookScript.workflowSource(script, hook: "h"), workflow: "h", trigger: .hook)
        request.hookEvent = LuaTable.record([
            "type": .string("task.failed"), "timestamp": .integer(1),
            "data": LuaTable.record(["task_name": .string("build"), "workflow_name": .string("deploy"), "error": .string("exit 2")]),
        ])
        return try await WorkflowRunner(database: harness.database, echo: nil, environment: [:]).run(request, cancellation: RunCancellation())
    }

    @Test("hooks in Sloth Runner's forms: returned execute(event), event.task, contains(), a #! line", arguments: [
        "return { execute = function(event) return event.task.task_name == 'build' and contains({'deploy'}, event.workflow.workflow_name) end }",
        "#!/usr/bin/env sloth-runner\nfunction on_event() local task = event.task or event.data.task; return task.task_name == 'build' end",
        "return function(event) return event.type == 'task.failed' end",
    ])
    func hookForms(script: String) async throws {
        let report = try await hook(script)
        #expect(report.succeeded, "\(report.task("on_event")?.error ?? "")")
    }

    @Test("a hook that returns something else, or defines no handler, fails as it loads, saying what it expected", arguments: [
        ("return 42", "the hook script returned a number: return { execute = function(event) ... end } or define on_event()"),
        ("local x = 1", "the hook script defines no on_event() function and returns no { execute = function(event) ... end }"),
    ])
    func hookWithoutHandler(script: String, expected: String) async throws {
        let message: String
        do { message = try await hook(script).error ?? "" } catch { message = "\(error)" }
        #expect(message.contains(expected), "\(message)")
    }

    @Test("event.dispatch_custom records a `custom` event with its name, message and payload, as Sloth Runner does")
    func dispatchCustom() async throws {
        let harness = try RunHarness()
        _ = try await harness.run("""
            task('a'):command(function()
              event.dispatch_custom("deployment_complete", "App deployed")
              event.dispatch_custom("scaled", { replicas = 3 })
            end):build()
            """)
        let events = try EventStore(database: harness.database).list(type: "custom")
        #expect(Set(events.map(\.dataJSON)) == [#"{"message":"App deployed","name":"deployment_complete","payload":{}}"#,
                                                #"{"name":"scaled","payload":{"replicas":3}}"#])
    }
}

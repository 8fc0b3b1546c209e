import Runner
import Testing

@Suite("The DSL: workflow forms, call styles and return values")
struct DSLTests {
    @Test("the four workflow forms each give one runnable workflow", arguments: [
        ("workflow.define('w', {tasks = {task('a'):command(function() return true end):build()}})", "w"),
        ("local a = task('a'):command(function() return true end):build()\nworkflow.define('w'):description('d'):tasks({a})", "w"),
        ("workflow('w'):task('a', function() return true end):task('b', function() return true end)", "w"),
        ("return { task('a'):command(function() return true end):build() }", "forms"),
        ("task('a'):command(function() return true end)", "forms"),
    ])
    func workflowForms(source: String, name: String) async throws {
        let report = try await RunHarness().run(source, file: "dir/forms.sloth")
        #expect(report.workflow == name)
        #expect(report.succeeded)
        #expect(report.task("a")?.status == .success)
    }

    @Test("commands are called this-first, or params-first when the first parameter is named params")
    func callStyles() async throws {
        let report = try await RunHarness().run("""
            local a = task('a'):params({x = 1}):command(function(this, params) return true, 'ok', {name = this:name(), same = this.name(), x = params.x, p = params.p} end):build()
            local b = task('b'):depends_on('a'):command(function(params, deps) return true, 'ok', {from_a = deps.a.name, task = params.task_name} end):build()
            workflow.define('w', {tasks = {a, b}})
            """, params: ["p": "cli"])
        #expect(report.task("a")?.output == LuaTable.record(["name": .string("a"), "same": .string("a"), "x": .integer(1), "p": .string("cli")]))
        #expect(report.task("b")?.output == LuaTable.record(["from_a": .string("a"), "task": .string("b")]))
    }

    @Test("return values decide the task's status", arguments: [
        ("", "success", nil),
        ("return true, 'fine', {n = 1}", "success", nil),
        ("return false, 'broken'", "failed", "broken"),
        ("return exec.run('exit 4')", "failed", nil),
        ("return exec.run('true')", "success", nil),
        ("error('boom')", "failed", "test.sloth:1: boom"),
        ("return 42", "failed", "task returned a number: expected true/false (with a message and outputs), a table with a boolean `success`, or nothing"),
    ] as [(String, String, String?)])
    func returnValues(body: String, status: String, error: String?) async throws {
        let report = try await RunHarness().run("task('t'):command(function() \(body) end):build()")
        #expect(report.task("t")?.status.rawValue == status)
        if let error { #expect(report.task("t")?.error == error) }
    }

    @Test("artifacts lists the files its patterns match in the task's workdir")
    func artifacts() async throws {
        let harness = try RunHarness()
        let dir = harness.directory.path
        let report = try await harness.run("""
            task('build'):workdir('\(dir)'):artifacts({'*.tar.gz', 'missing/*'}):command(function()
              fs.write('\(dir)/app.tar.gz', 'x')
            end)
            """)
        #expect(report.task("build")?.artifacts == ["\(dir)/app.tar.gz"])
    }

    @Test("a shell string command succeeds on exit 0 and keeps its output")
    func shellStringCommand() async throws {
        let report = try await RunHarness().run("task('t'):command('echo hello; echo oops >&2'):build()")
        #expect(report.task("t")?.status == .success)
        #expect(report.task("t")?.output["stdout"] == .string("hello\n"))
    }

    @Test("bad definitions are refused before anything runs", arguments: [
        ("task('a'):descriptoin('x')", "test.sloth:1: unknown task builder method 'descriptoin' on task 'a'"),
        ("task('a'):timeout('soon')", "test.sloth:1: invalid timeout \"soon\" (use 30s, 5m, 1h30m or seconds)"),
        ("task('a'):retries(2, 'random')", "test.sloth:1: unknown retry strategy \"random\" (fixed, linear or exponential)"),
        ("task('a'):depends_on('ghost')", "test.sloth:1: task 'a' depends on unknown task 'ghost'"),
        ("workflow.define('x', {tasks = {}})", "test.sloth:1: workflow 'x' defines no task"),
        ("\nworkflow.define('x', {description = 'nothing'})", "test.sloth:2: workflow 'x' defines no task"),
        ("workflow.define('x'):description('d')", "test.sloth:1: workflow 'x' defines no task"),
        ("local w = workflow('x')", "test.sloth:1: workflow 'x' defines no task"),
        ("task('a'):depends_on('b')\ntask('b'):depends_on('a')", "test.sloth: dependency cycle: a -> b -> a"),
        ("workflow.define('w', {tasks = {}})\nworkflow.define('w', {tasks = {}})", "test.sloth:2: workflow 'w' is defined twice"),
        ("local x = ", "test.sloth:1: unexpected symbol near <eof>"),
        ("x = 1", "test.sloth defines no workflow and no task"),
    ])
    func badDefinitions(source: String, message: String) async throws {
        await #expect {
            try await RunHarness().run(source)
        } throws: { error in
            "\(error)" == message
        }
    }

    @Test("a --task the workflow does not have is refused, naming the tasks it has")
    func unknownTask() async throws {
        await #expect(throws: RunnerError.invalidWorkflow("test.sloth: workflow 'test' has no task 'nosuch' (its tasks: a, b)")) {
            try await RunHarness().run("task('a')\ntask('b'):depends_on('a')", tasks: ["nosuch"])
        }
    }

    @Test("a file with two workflows needs a name, and lists both")
    func twoWorkflows() async throws {
        let source = "workflow.define('one', {tasks = {task('a'):build()}})\nworkflow.define('two', {tasks = {task('b'):build()}})"
        await #expect(throws: RunnerError.ambiguousWorkflow(file: "test.sloth", names: ["one", "two"])) { try await RunHarness().run(source) }
        #expect(try await RunHarness().run(source, workflow: "two").task("b")?.status == .success)
        await #expect(throws: RunnerError.unknownWorkflow("three", available: ["one", "two"])) { try await RunHarness().run(source, workflow: "three") }
    }
}

import Catalog
import Foundation
import Runner
import Testing

/// `WorkflowCheck`: what `workflow add|update` and `--task` run before anything is stored or queued.
@Suite("Checking a workflow file at the door")
struct WorkflowCheckTests {
    @Test("bad files are refused with the error run -f gives, file:line where there is one", arguments: [
        ("unknown method", "task('a'):descriptoin('x')", nil, "deploy.sloth:1: unknown task builder method 'descriptoin' on task 'a'"),
        ("unknown dependency", "task('a')\ntask('b'):depends_on('ghost')", nil, "deploy.sloth:2: task 'b' depends on unknown task 'ghost'"),
        ("cycle", "task('a'):depends_on('b')\ntask('b'):depends_on('a')", nil, "deploy.sloth: dependency cycle: a -> b -> a"),
        ("an empty task list gives none", "workflow.define('x', {tasks = {}})", nil,
         "deploy.sloth:1: workflow 'x' defines no task"),
        ("syntax error", "task('a'):command(", nil, "deploy.sloth:1: unexpected symbol near <eof>"),
        ("nothing defined", "local x = 1", nil, "deploy.sloth defines no workflow and no task"),
        ("two workflows", "workflow('one'):task('a', 'true')\nworkflow('two'):task('b', 'true')", nil,
         "deploy.sloth defines 2 workflows; name one of: one, two"),
        ("unknown --workflow", "workflow('one'):task('a', 'true')\nworkflow('two'):task('b', 'true')", "three",
         "no workflow \"three\"; the file defines: one, two"),
        ("top level errors", "error('no config here')", nil, "deploy.sloth:1: no config here"),
    ] as [(String, String, String?, String)])
    func refused(scenario: String, source: String, workflow: String?, message: String) {
        #expect(throws: RunnerError.self, "\(scenario)") {
            try WorkflowCheck.check(source, file: "deploy.sloth", workflow: workflow)
        }
        do {
            _ = try WorkflowCheck.check(source, file: "deploy.sloth", workflow: workflow)
        } catch {
            #expect(error.description == message, "\(scenario)")
        }
    }

    @Test("a good file gives the workflow it provides, every workflow and the tasks")
    func accepted() throws {
        let source = "workflow('one'):task('a', 'true')\nworkflow('two'):task('b', 'true'):task('c', 'true')"
        let checked = try WorkflowCheck.check(source, file: "deploy.sloth", workflow: "two")
        #expect(checked == WorkflowCheck.Checked(workflow: "two", workflows: ["one", "two"], tasks: ["b", "c"], needs: ["b": [], "c": []]))
        #expect(checked.entry == "two")
        let single = try WorkflowCheck.check("task('build')\ntask('test'):depends_on('build')", file: "ci.sloth")
        #expect(single.workflow == "ci" && single.tasks == ["build", "test"] && single.entry == nil)
    }

    @Test("--task names are checked, with the tasks the workflow has")
    func unknownTask() throws {
        #expect(try WorkflowCheck.check("task('build')\ntask('test'):depends_on('build')", file: "ci.sloth", tasks: ["test"]).tasks == ["build", "test"])
        #expect(throws: RunnerError.invalidWorkflow("ci.sloth: workflow 'ci' has no task 'deploy' (its tasks: build, test)")) {
            try WorkflowCheck.check("task('build')\ntask('test')", file: "ci.sloth", tasks: ["deploy"])
        }
    }

    @Test("a stored entry is kept while the new version defines it, and dropped when it does not")
    func storedEntry() throws {
        let two = "workflow('one'):task('a', 'true')\nworkflow('two'):task('b', 'true')"
        #expect(try WorkflowCheck.check(two, file: "f.sloth", storedEntry: "two").workflow == "two")
        #expect(try WorkflowCheck.check("workflow('three'):task('c', 'true')", file: "f.sloth", storedEntry: "two").workflow == "three")
        #expect(try WorkflowCheck.check(two, file: "f.sloth", workflow: "one", storedEntry: "two").workflow == "one")
    }

    @Test("the top level runs in a sandbox: no command, no request, no real state, no endless add")
    func sandbox() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("check-marker-\(UUID().uuidString)").path
        let checked = try WorkflowCheck.check("""
            local result = exec.run('touch \(marker)')
            assert(not result.success and result.stderr:find('not run'))
            assert(io.popen('touch \(marker)'))
            local response, err = http.get('http://127.0.0.1:9/')
            assert(response == nil and err:find('not run'))
            state.set('checked', true)
            assert(not sloth.workflow.add({name = 'self', file = 'f.sloth'}).changed)
            task('a'):command(function() exec.run('touch \(marker)') end)
            """, file: "f.sloth")
        #expect(checked.tasks == ["a"])
        #expect(!FileManager.default.fileExists(atPath: marker), "nothing ran")
    }

    @Test("top-level code that never ends is stopped at the deadline")
    func deadline() throws {
        let started = Date()
        #expect(throws: RunnerError.invalidFile("spin.sloth: its top-level code ran longer than 0.5 s while slothd checked it "
                                                + "(top-level code must not wait; do the work in a task)")) {
            try WorkflowCheck.check("while true do end", file: "spin.sloth", deadlineSeconds: 0.5)
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }
}

/// `sloth.workflow.add` from a workflow stores only what the door would: the same check, the same entry.
@Suite("sloth.workflow.add checks what it adds")
struct CatalogAddCheckTests {
    @Test("a bad file is refused with the check's message; several workflows need `workflow`; the entry is stored")
    func add() async throws {
        let harness = try RunHarness()
        let dir = harness.directory.path
        let report = try await harness.run("""
            fs.write('\(dir)/bad.sloth', "task('a'):depends_on('ghost')\\n")
            fs.write('\(dir)/pair.sloth', "workflow('one'):task('a', 'true')\\nworkflow('two'):task('b', 'true')\\n")
            task('t'):command(function()
              local _, bad = sloth.workflow.add({name = 'bad', file = '\(dir)/bad.sloth'})
              local _, ambiguous = sloth.workflow.add({name = 'pair', file = '\(dir)/pair.sloth'})
              local added = sloth.workflow.add({name = 'pair', file = '\(dir)/pair.sloth', workflow = 'two'})
              return true, nil, {bad = bad, ambiguous = ambiguous, changed = added.changed, listed = #sloth.workflow.list()}
            end)
            """)
        let output = try #require(report.task("t")?.output)
        #expect(output["bad"] == .string("sloth.workflow.add: \(dir)/bad.sloth:1: task 'a' depends on unknown task 'ghost'"))
        #expect(output["ambiguous"] == .string("sloth.workflow.add: \(dir)/pair.sloth defines 2 workflows; name one of: one, two"))
        #expect(output["changed"] == .boolean(true))
        #expect(output["listed"] == .integer(1))
        #expect(try WorkflowStore(database: harness.database).get("pair", content: false).entry == "two")
    }
}

import Foundation
import Testing

/// The workflows of examples/ (taken from the Sloth Runner documents), each checked against the result
/// its header comment promises (catalog: DaemonTests; secrets: StackDaemonTests; events: HookDaemonTests).
@Suite("Examples through sloth run")
struct ExamplesCLITests {
    @Test("hello-world: the task's outputs")
    func helloWorld() async throws {
        let run = try await Workspace().runExample("hello-world")
        #expect(run.status == 0)
        #expect(run.document.at("status") as? String == "success")
        #expect(run.document.at("tasks.say_hello.output.message") as? String == "Hello World")
        #expect(run.stderr.contains("[say_hello] Hello World from Sloth Runner!"))
    }

    @Test("sloth-runner-forms: keyed and plain tasks, a task as a dependency, exec's result as a string, a #! line")
    func slothRunnerForms() async throws {
        let run = try await Workspace().runExample("sloth-runner-forms")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.document.at("status") as? String == "success")
        #expect(run.document.at("tasks.report.output.summary") as? String == "built hello")
        #expect(run.document.at("tasks.build.output.cleaned") as? Bool == true)
    }

    @Test("modules: validate, template, SQLite, retry and monitor in one task")
    func modules() async throws {
        let run = try await Workspace().runExample("modules")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.document.at("tasks.record.output.users") as? Int == 2)
        #expect(run.document.at("tasks.record.output.config") as? String == "listen 8080 for ops@example.com")
        #expect(run.document.at("tasks.record.output.attempts") as? Int == 3)
    }

    @Test("git-modules: commit and push to an origin, a second clone sees it, gitops.sync is idempotent and keeps to its repository")
    func gitModules() async throws {
        let run = try await Workspace().runExample("git-modules")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.document.at("tasks.publish.output.pushed") as? Bool == true)
        #expect(run.document.at("tasks.deploy.output.message") as? String == "release notes")
        #expect(run.document.at("tasks.deploy.output.first_sync") as? Bool == true)
        #expect(run.document.at("tasks.deploy.output.second_sync") as? Bool == false)
        #expect(run.document.at("tasks.deploy.output.refused") as? String == "is a clone of another repository")
    }

    @Test("fluent: this-first functions, workdir, dependencies")
    func fluent() async throws {
        let run = try await Workspace().runExample("fluent")
        #expect(run.document.at("status") as? String == "success")
        #expect(run.document.at("tasks.prepare.output.dir") as? String == "/tmp/sloth-example-fluent")
        #expect(run.document.at("tasks.report.output.lines") as? Int == 3)
    }

    @Test("pipeline: outputs flow through deps and state outlives the run")
    func pipeline() async throws {
        let workspace = try Workspace()
        let run = try await workspace.runExample("pipeline")
        #expect(run.document.at("tasks.store_result.output.stored") as? String == "processed_api_data")
        #expect(try await workspace.sloth(["state", "get", "last_result"]).stdout == "processed_api_data\n")
    }

    @Test("conditional: run_if false skips deploy")
    func conditionalSkip() async throws {
        let run = try await Workspace().runExample("conditional", ["--param", "deploy=no"])
        #expect(run.status == 0)
        #expect(run.document.at("tasks.deploy.status") as? String == "skipped")
    }

    @Test("conditional: a failing deploy rolls back, cleanup still runs, exit 3")
    func conditionalFailure() async throws {
        let workspace = try Workspace()
        let run = try await workspace.runExample("conditional", ["--param", "deploy=yes"])
        #expect(run.status == 3)
        #expect(run.document.at("status") as? String == "failed")
        #expect(run.document.at("tasks.deploy.status") as? String == "failed")
        #expect(run.document.at("tasks.cleanup.status") as? String == "success")
        #expect(try await workspace.sloth(["state", "get", "rolled_back"]).stdout == "true\n")
    }

    @Test("parallel-goroutines and quick-goroutines: the work overlaps", arguments: [
        ("parallel-goroutines", "deploy_multi_server", 3.5), ("quick-goroutines", "quick_goroutine_demo", 3.0),
    ])
    func goroutines(example: String, task: String, limit: Double) async throws {
        let run = try await Workspace().runExample(example)
        #expect(run.document.at("status") as? String == "success")
        let seconds = Double((run.document.at("duration") as? String ?? "99s").dropLast()) ?? 99
        #expect(seconds < limit, "took \(seconds) s")
        if example == "parallel-goroutines" {
            #expect(run.document.at("tasks.\(task).output.success") as? Int == 6)
        }
    }

    @Test("retries-timeout: flaky succeeds on attempt 3; hang times out and leaves no process")
    func retriesAndTimeout() async throws {
        let workspace = try Workspace()
        let run = try await workspace.runExample("retries-timeout")
        #expect(run.status == 3)
        #expect(run.document.at("tasks.flaky.status") as? String == "success")
        #expect(run.document.at("tasks.hang.status") as? String == "timed_out")
        #expect(try await workspace.sloth(["state", "get", "flaky_attempts"]).stdout == "3\n")
        // The kill is sent before sloth exits; a loaded machine may take a moment to finish it.
        let left = try await CLI.shell("for i in $(seq 50); do pgrep -f 'slee[p] 300' >/dev/null || exit 0; sleep 0.1; done; pgrep -f 'slee[p] 300'")
        #expect(left.isEmpty)
    }

    @Test("state-and-data: state, json, yaml and crypto")
    func stateAndData() async throws {
        let run = try await Workspace().runExample("state-and-data")
        #expect(run.document.at("status") as? String == "success")
        #expect(run.document.at("tasks.state_ops.output.counter") as? Int == 2)
        #expect(run.document.at("tasks.state_ops.output.swapped") as? Bool == true)
        #expect(run.document.at("tasks.state_ops.output.sha") as? String == "b2167b0aa7ef7794740b055ac7a880a52934aa67ef1ca6887ad81dccefd5b9de")
    }

    @Test("manpage-return: tasks returned from the file, values from --values")
    func manpageReturn() async throws {
        let run = try await Workspace().runExample("manpage-return", ["--values", Workspace.examples.appendingPathComponent("values.yaml").path])
        #expect(run.document.at("workflow") as? String == "manpage-return")
        #expect(run.document.at("tasks.deploy_application.output.target") as? String == "production")
    }

    @Test("infra-test: workflow(name):task(...) with infra_test checks")
    func infraTest() async throws {
        let run = try await Workspace().runExample("infra-test")
        #expect(run.status == 0)
        #expect(run.document.at("workflow") as? String == "quick-test")
    }
}

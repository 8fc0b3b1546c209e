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

    /// Fake tools that keep what they did as files in $FAKE_STATE (an installed package, an enabled unit)
    /// and log their argv there: the environment for a run that uses them.
    static func fakeTools(_ scripts: [String: String]) throws -> (environment: [String: String], state: URL) {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-fakes-\(UUID().uuidString.prefix(8))")
        let bin = state.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for (tool, script) in scripts {
            let path = bin.appendingPathComponent(tool).path
            try "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> \"$FAKE_STATE/argv.log\"\nlast=$(for a in \"$@\"; do :; done; echo \"$a\")\n\(script)\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let path = "\(bin.path):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"
        return (["PATH": path, "FAKE_STATE": state.path], state)
    }

    /// A decoded JSON value against a Bool, Int or String (JSONSerialization's booleans are NSNumbers).
    static func same(_ actual: Any?, _ expected: Any) -> Bool {
        switch expected {
        case let flag as Bool: actual as? Bool == flag
        case let number as Int: actual as? Int == number
        case let text as String: actual as? String == text
        default: false
        }
    }

    @Test("host-setup: facts checked, nginx installed and started once each, a deploy user, over fake apt-get, systemctl and useradd")
    func hostSetup() async throws {
        let (environment, state) = try Self.fakeTools([
            "apt-get": #"[ "$1" = install ] && touch "$FAKE_STATE/pkg-$last""#,
            "dpkg-query": #"[ -f "$FAKE_STATE/pkg-$last" ] && printf 'install ok installed\t1.24.0' || exit 1"#,
            "systemctl": #"""
                case "$1" in
                  is-enabled) [ -f "$FAKE_STATE/enabled-$last" ] ;;
                  is-active) [ -f "$FAKE_STATE/active-$last" ] ;;
                  enable) touch "$FAKE_STATE/enabled-$last" ;;
                  start) touch "$FAKE_STATE/active-$2" ;;
                  show) [ -f "$FAKE_STATE/active-$2" ] && echo ActiveState=active || echo ActiveState=inactive ;;
                esac
                """#,
            "getent": #"[ -f "$FAKE_STATE/user-$last" ] && echo "$last:x:1001:1001::/home/$last:/bin/bash" || exit 2"#,
            "useradd": #"touch "$FAKE_STATE/user-$last""#,
        ])
        let run = try await Workspace().runExample("host-setup", environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        for (path, expected) in [("tasks.check.output.enough", true as Any), ("tasks.install.output.installed", "nginx"),
                                 ("tasks.install.output.again", false), ("tasks.install.output.version", "1.24.0"),
                                 ("tasks.service.output.active", true), ("tasks.service.output.again", false),
                                 ("tasks.user.output.created", true)] {
            #expect(Self.same(run.document.at(path), expected), "\(path): \(run.document.at(path) ?? "nil")")
        }
        let argv = try String(contentsOf: state.appendingPathComponent("argv.log"), encoding: .utf8).split(separator: "\n")
        #expect(argv.filter { $0.hasPrefix("apt-get install") } == ["apt-get install -y nginx"], "installed once")
        #expect(argv.filter { $0.hasPrefix("systemctl start") } == ["systemctl start nginx"], "started once")
        #expect(argv.filter { $0.hasPrefix("useradd") && $0.hasSuffix(" deploy") && $0.contains("--groups www-data") }.count == 1, "\(argv)")
    }

    @Test("cloud-deploy: an image built and run once, terraform planned, applied and read back, over fake docker and terraform")
    func cloudDeploy() async throws {
        let (environment, state) = try Self.fakeTools([
            "docker": #"""
                case "$1" in
                  build) echo "Successfully tagged shop:1.4" ;;
                  inspect) [ -f "$FAKE_STATE/container" ] && echo '[{"Id": "c0ffee"}]' || { echo "[]"; echo "Error: No such container" >&2; exit 1; } ;;
                  run) touch "$FAKE_STATE/container"; echo c0ffee ;;
                esac
                """#,
            "terraform": #"""
                case "$2" in
                  plan) echo "Plan: 1 to add, 0 to change, 0 to destroy."; exit 2 ;;
                  apply) echo "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." ;;
                  output) echo '{"address": {"sensitive": false, "type": "string", "value": "10.0.0.5"}}' ;;
                esac
                """#,
        ])
        let run = try await Workspace().runExample("cloud-deploy", environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        for (path, expected) in [("tasks.image.output.started", true as Any), ("tasks.image.output.again", false),
                                 ("tasks.infra.output.planned", 1), ("tasks.infra.output.applied", true),
                                 ("tasks.infra.output.address", "10.0.0.5")] {
            #expect(Self.same(run.document.at(path), expected), "\(path): \(run.document.at(path) ?? "nil")")
        }
        let argv = try String(contentsOf: state.appendingPathComponent("argv.log"), encoding: .utf8).split(separator: "\n")
        #expect(argv.filter { $0.hasPrefix("docker run") } == ["docker run -d --name shop -p 8080:80 shop:1.4"], "run once: \(argv)")
        #expect(argv.contains { $0.hasPrefix("terraform -chdir=") && $0.contains(" apply -auto-approve -var image=shop:1.4") }, "\(argv)")
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
        // The kill is sent before sloth exits; a loaded machine may take a while to finish it (once, in a
        // clean-clone CI run with every suite in parallel, over 5 s).
        let left = try await CLI.shell("for i in $(seq 200); do pgrep -f 'slee[p] 300' >/dev/null || exit 0; sleep 0.1; done; pgrep -f 'slee[p] 300'")
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

import Control
import Foundation
import Testing
import TestSupport

@Suite("slothd end to end", .serialized)
struct DaemonTests {
    static let hello = Workspace.examples.appendingPathComponent("hello-world.sloth").path

    @Test("READY=1 once the socket serves; STOPPING=1 and exit 0 on SIGTERM")
    func readyAndStopping() async throws {
        let daemon = try DaemonProcess()
        let ready = try #require(daemon.waitUntilReady())
        #expect(ready.contains("STATUS="))
        #expect(try await daemon.sloth(["status", "-o", "json"]).status == 0)
        daemon.signal(SIGTERM)
        #expect(daemon.notify.wait(for: "STOPPING=1", timeout: 20) != nil)
        #expect(await daemon.exitStatus() == 0)
    }

    @Test("WATCHDOG=1 arrives at half of WATCHDOG_USEC")
    func watchdog() async throws {
        let daemon = try DaemonProcess(environment: ["WATCHDOG_USEC": "400000"])
        try #require(daemon.waitUntilReady() != nil)
        #expect(daemon.notify.wait(for: "WATCHDOG=1", timeout: 5) != nil)
        #expect(daemon.notify.wait(for: "WATCHDOG=1", timeout: 5) != nil)
    }

    @Test("socket activation: slothd serves the socket systemd passes in LISTEN_FDS")
    func socketActivation() async throws {
        let daemon = try DaemonProcess(socketActivated: true)
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: daemon.socket) { try await Task.sleep(for: .milliseconds(50)) }
        let status = try await daemon.sloth(["status", "-o", "json"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("\"version\":\"0.1.0\""))
        #expect(daemon.notify.wait(for: "READY=1", timeout: 10) != nil)
        let file = daemon.directory.appendingPathComponent("env.sloth").path
        try "task('env'):command(function() return true, 'ok', {fds = os.getenv('LISTEN_FDS') or 'none', notify = exec.run('echo ${NOTIFY_SOCKET:-none}').stdout} end)\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["workflow", "add", "env", "--file", file]).status == 0)
        let run = try await daemon.sloth(["run", "env", "-o", "json"])
        #expect(run.stdout.contains("\"fds\":\"none\""), "jobs never see LISTEN_FDS")
        #expect(run.stdout.contains("\"notify\":\"none\\n\""), "jobs never see NOTIFY_SOCKET")
    }

    @Test("what a workflow counts with monitor is on the daemon's /metrics as slothd_workflow_*")
    func workflowMetrics() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let file = Workspace.examples.appendingPathComponent("modules.sloth").path
        #expect(try await daemon.sloth(["workflow", "add", "modules", "--file", file]).status == 0)
        #expect(try await daemon.sloth(["run", "modules"]).status == 0)
        let metrics = try HTTPClient(unixSocket: daemon.socket, timeoutSeconds: 10).get("http://slothd/metrics").text
        #expect(metrics.contains("# TYPE slothd_workflow_example_records counter"), "\(metrics)")
        #expect(metrics.contains("slothd_workflow_example_records{table=\"users\"} 1"))
    }

    @Test("the catalog and an on-demand run through the CLI, with its logs")
    func catalogAndRun() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await daemon.sloth(["workflow", "add", "hello", "--file", Self.hello, "--tag", "demo"]).status == 0)
        let duplicate = try await daemon.sloth(["workflow", "add", "hello", "--file", Self.hello])
        #expect(duplicate.status == 2)
        #expect(duplicate.stderr == "sloth: a workflow named \"hello\" already exists (use `sloth workflow update`)\n")
        let list = try await daemon.sloth(["workflow", "list", "-o", "json"])
        #expect(list.stdout.contains("\"name\":\"hello\""))

        let run = try await daemon.sloth(["run", "hello", "-o", "json"])
        #expect(run.status == 0)
        #expect(run.stderr.contains("[say_hello] Hello World from Sloth Runner!"))
        let document = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        #expect(document?.at("tasks.say_hello.output.message") as? String == "Hello World")
        let logs = try await daemon.sloth(["runs", "logs", "1"])
        #expect(logs.stdout.contains("INFO  [say_hello] Message: Hello World"))
        let runs = try await daemon.sloth(["runs", "list", "-o", "json"])
        #expect(runs.stdout.contains("\"state\":\"succeeded\""))
        #expect(runs.stdout.contains("\"trigger\":\"manual\""))

        let metrics = try HTTPClient(unixSocket: daemon.socket, timeoutSeconds: 10).get("http://slothd/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("slothd_runs_total{workflow=\"hello\",state=\"succeeded\"} 1"))
        #expect(metrics.text.contains("slothd_queue_depth"))
        #expect(metrics.text.contains("slothd_run_duration_seconds_bucket"))

        #expect(try await daemon.sloth(["workflow", "deactivate", "hello"]).status == 0)
        let inactive = try await daemon.sloth(["run", "hello"])
        #expect(inactive.status == 2)
        #expect(inactive.stderr == "sloth: workflow \"hello\" is inactive (sloth workflow activate hello)\n")
        #expect(try await daemon.sloth(["workflow", "activate", "hello"]).status == 0)

        let history = try await daemon.sloth(["workflow", "update", "hello", "--file", Workspace.examples.appendingPathComponent("fluent.sloth").path])
        #expect(history.status == 0)
        #expect(try await daemon.sloth(["workflow", "history", "hello", "-o", "json"]).stdout.contains("\"version\":2"))
    }

    @Test("bad input is refused with exit 2 and nothing stored")
    func badInput() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let bad = daemon.directory.appendingPathComponent("bad.sloth").path
        try "task('a'):command(function(\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await daemon.sloth(["workflow", "add", "bad", "--file", bad])
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("sloth: \(bad):2:"))
        #expect(try await daemon.sloth(["workflow", "list", "-o", "json"]).stdout == "[]\n")
        #expect(try await daemon.sloth(["run", "nope"]).status == 2)

        let client = HTTPClient(unixSocket: daemon.socket, timeoutSeconds: 10)
        let malformed = try client.send(.init(method: "POST", url: "http://slothd/v1/workflows", body: Array("{not json".utf8)))
        #expect(malformed.status == 400)
        #expect(malformed.text.contains("\"code\":\"invalid\""))
        let huge = try client.send(.init(method: "POST", url: "http://slothd/v1/workflows", body: [UInt8](repeating: 32, count: 9 << 20)))
        #expect(huge.status == 413)
        #expect(try client.get("http://slothd/v1/status").status == 200)
    }

    @Test("cancelling a running `sleep` run stops its processes and records it cancelled")
    func cancelRun() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let file = daemon.directory.appendingPathComponent("long.sloth").path
        let started = try StartSignal(in: daemon.directory)
        try "task('long'):command(function() exec.run('echo go > \(started.path); sleep 378') end)\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["workflow", "add", "long", "--file", file]).status == 0)
        #expect(try await daemon.sloth(["run", "long", "--detach"]).stdout == "run 1 queued\n")
        await started.wait()
        #expect(try await daemon.sloth(["runs", "cancel", "1"]).status == 0)
        // Following the log returns once the run has ended.
        _ = try await daemon.sloth(["runs", "logs", "1", "--follow"])
        #expect(try await daemon.sloth(["runs", "show", "1", "-o", "json"]).stdout.contains("\"state\":\"cancelled\""))
        #expect(try await CLI.shell("pgrep -f 'slee[p] 378' || true").isEmpty)
    }

    @Test("after SIGKILL a restarted daemon marks the in-flight run interrupted; the catalog is intact")
    func killAndRestart() async throws {
        let first = try DaemonProcess()
        try #require(first.waitUntilReady() != nil)
        let file = first.directory.appendingPathComponent("long.sloth").path
        let started = try StartSignal(in: first.directory)
        try "task('long'):command(function() exec.run('echo go > \(started.path); sleep 379') end)\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await first.sloth(["workflow", "add", "long", "--file", file]).status == 0)
        #expect(try await first.sloth(["run", "long", "--detach"]).status == 0)
        await started.wait()
        first.signal(SIGKILL)
        _ = await first.exitStatus()
        _ = try await CLI.shell("pkill -f 'slee[p] 379' || true")
        let second = try DaemonProcess(directory: first.directory)
        try #require(second.waitUntilReady() != nil)
        #expect(try await second.sloth(["runs", "show", "1", "-o", "json"]).stdout.contains("\"state\":\"interrupted\""))
        #expect(try await second.sloth(["workflow", "list", "-o", "json"]).stdout.contains("\"name\":\"long\""))
    }

    @Test("SIGTERM with a run in flight: the grace period passes, the run is interrupted, no process is left")
    func stopWithRunInFlight() async throws {
        let first = try DaemonProcess(extraArguments: ["--shutdown-grace", "1"])
        try #require(first.waitUntilReady() != nil)
        let file = first.directory.appendingPathComponent("long.sloth").path
        let started = try StartSignal(in: first.directory)
        try "task('long'):command(function() exec.run('echo go > \(started.path); sleep 381') end)\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await first.sloth(["workflow", "add", "long", "--file", file]).status == 0)
        #expect(try await first.sloth(["run", "long", "--detach"]).status == 0)
        await started.wait()
        first.signal(SIGTERM)
        #expect(await first.exitStatus() == 0)
        #expect(try await CLI.shell("pgrep -f 'slee[p] 381' || true").isEmpty)
        let second = try DaemonProcess(directory: first.directory)
        try #require(second.waitUntilReady() != nil)
        let run = try await second.sloth(["runs", "show", "1", "-o", "json"]).stdout
        #expect(run.contains("\"state\":\"interrupted\""))
        #expect(run.contains("slothd stopped while the run was running"))
    }

    @Test("SIGHUP reloads the config file: RELOADING=1, new worker count, READY=1; a bad file is refused at start")
    func reload() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("slothd.yaml").path
        try "workers: 1\nqueue: 10\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(directory: directory, extraArguments: ["--config", config])
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await daemon.sloth(["status", "-o", "json"]).stdout.contains("\"workers\":1"))
        try "workers: 3\nqueue: 10\n".write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.notify.wait(for: "RELOADING=1", timeout: 10) != nil)
        #expect(daemon.notify.wait(for: "READY=1", timeout: 10) != nil)
        #expect(try await daemon.sloth(["status", "-o", "json"]).stdout.contains("\"workers\":3"))

        try "workers: 2\nwokers: 3\n".write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try await CLI.shell("\(DaemonProcess.binary.path) --config \(config) --state-dir \(directory.path)/other --socket \(directory.path)/other.sock 2>&1; echo exit=$?")
        #expect(refused.contains("unknown setting \"wokers\""))
        #expect(refused.hasSuffix("exit=2\n"))
    }

    @Test("examples/catalog.sloth adds to the daemon's catalog once (idempotent); workflow list shows it active")
    func catalogFromLua() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let values = daemon.directory.appendingPathComponent("values.yaml").path
        try "examples_dir: \(Workspace.examples.path)\n".write(toFile: values, atomically: true, encoding: .utf8)
        let catalog = Workspace.examples.appendingPathComponent("catalog.sloth").path
        let first = try await daemon.sloth(["run", "-f", catalog, "--values", values, "-o", "json"])
        #expect(first.stdout.contains("\"added\":true"))
        let second = try await daemon.sloth(["run", "-f", catalog, "--values", values, "-o", "json"])
        #expect(second.stdout.contains("\"added\":false"))
        let list = try await daemon.sloth(["workflow", "list"])
        #expect(list.stdout.contains("nightly-hello  1        yes"))
    }

    @Test("without a daemon the CLI says where it looked, exit 1")
    func unreachable() async throws {
        let result = try await CLI.run(["status"], environment: ["SLOTH_SOCKET": "/tmp/no-slothd-here.sock"])
        #expect(result.status == 1)
        #expect(result.stderr == "sloth: cannot reach slothd at /tmp/no-slothd-here.sock: is it running? (systemctl status slothd)\n")
    }
}

import Catalog
import Foundation
@testable import Runner
import Testing

@Suite("Job output: what commands print is in the run's log, line by line")
struct JobOutputTests {
    /// The run's stored log as (task, stream, message), the run's own lines left out.
    private func jobLines(_ harness: RunHarness, _ report: RunReport) throws -> [[String]] {
        try RunStore(database: harness.database).logs(run: report.runID).compactMap { line in
            line.stream.map { [line.task ?? "-", $0, line.message] }
        }
    }

    @Test("a shell command's stdout and stderr lines are tagged with task and stream; its error names the exit status and last stderr line")
    func shellCommand() async throws {
        let harness = try RunHarness()
        let report = try await harness.run(#"task('build'):command("echo hi; echo err >&2; exit 4"):build()"#)
        #expect(try jobLines(harness, report) == [["build", "stdout", "hi"], ["build", "stderr", "err"]])
        #expect(report.task("build")?.error == "exit status 4: err")
        #expect(report.task("build")?.exitCode == 4)
    }

    @Test("exec.run, os.execute and io.popen: every line once, in the task that ran it")
    func everyWayOfRunning() async throws {
        let harness = try RunHarness()
        let report = try await harness.run("""
            task('t'):command(function()
              exec.run("echo one")
              os.execute("echo two; echo three >&2")
              local f = io.popen("echo four"); f:read("a"); f:close()
              return true
            end):build()
            """)
        #expect(try jobLines(harness, report) == [["t", "stdout", "one"], ["t", "stdout", "two"], ["t", "stderr", "three"],
                                                 ["t", "stdout", "four"]])
    }

    @Test("a secret printed by a command is masked in the log")
    func masked() async throws {
        let harness = try RunHarness()
        let keyring = SecretKeyring(stateDirectory: harness.directory.path, environment: [:])
        _ = try SecretStore(database: harness.database, keyring: keyring).set("token", stack: nil, value: "s3cr3t-value-42", by: "test")
        let report = try await harness.run("""
            task('t'):command(function() local v = secrets.get("token"); exec.run("echo token=" .. v) return true end):build()
            """)
        #expect(try jobLines(harness, report) == [["t", "stdout", "token=***"]])
    }

    @Test("a killed command says which signal ended it")
    func signaled() async throws {
        let report = try await RunHarness().run(#"task('t'):command("echo going >&2; kill -TERM $$"):build()"#)
        #expect(report.task("t")?.error == "killed by SIGTERM: going")
    }

    @Test(arguments: [
        ("exit status 4", "", "exit status 4"),
        ("exit status 1", "first\nsecond\n\n  \n", "exit status 1: second"),
        ("exit status 2", "  padded  \n", "exit status 2: padded"),
        ("exit status 3", String(repeating: "x", count: 400), "exit status 3: " + String(repeating: "x", count: 184) + "…"),
    ])
    func oneLineErrors(ending: String, stderr: String, expected: String) {
        #expect(CommandError.summary(ending, stderr: stderr) == expected)
        #expect(CommandError.summary(ending, stderr: stderr).count <= CommandError.maxCharacters)
    }

    @Test("lines are cut at newlines across reads; CR LF ends a line; a very long line is logged in pieces; a last line without newline is kept")
    func lineCutting() {
        let log = RunLog(echo: nil, now: { 1 })
        let output = JobOutput(log: log, task: "t")
        output.received(Array("par".utf8)[...], stream: 0, now: 0)
        output.received(Array("tial\r\nnext\n".utf8)[...], stream: 0, now: 0)
        output.received(Array(repeating: UInt8(ascii: "y"), count: JobOutput.maxLineBytes + 5)[...], stream: 1, now: 0)
        output.received(Array("tail".utf8)[...], stream: 0, now: 0)
        output.finish()
        let lines = log.drain().map { [$0.stream ?? "-", $0.message.count > 20 ? "\($0.message.count) bytes" : $0.message] }
        #expect(lines == [["stdout", "partial"], ["stdout", "next"], ["stderr", "\(JobOutput.maxLineBytes) bytes"],
                          ["stdout", "tail"], ["stderr", "yyyyy"]])
    }

    /// A command printing `bytes` without a newline: the log takes it in pieces of `JobOutput.maxLineBytes`.
    private func flood(bytes: Int, logCap: Int) async throws -> (report: RunReport, log: [RunStore.LogLine]) {
        let harness = try RunHarness()
        let runner = WorkflowRunner(database: harness.database, echo: nil, limits: .init(logBytes: logCap), environment: [:])
        let report = try await runner.run(RunRequest(file: "flood.sloth", source: """
            task('t'):command(function()
              local r = exec.run("head -c \(bytes) /dev/zero | tr -c x x")
              return true, nil, {stdout = #r.stdout}
            end):build()
            """))
        return (report, try RunStore(database: harness.database).logs(run: report.runID))
    }

    @Test("a command that floods its output keeps the run's log to its cap and says how much it dropped")
    func floodPastTheLogCap() async throws {
        let (report, log) = try await flood(bytes: 3 << 20, logCap: 1 << 20)
        #expect(report.succeeded, "\(report.error ?? "")")
        #expect(log.reduce(0) { $0 + $1.message.utf8.count } <= (1 << 20) + 1024)
        #expect(log.last?.message.hasPrefix("log truncated: ") == true)
    }

    @Test("what passes a command's result limit is still in the log, and the log says the result was cut")
    func floodPastTheResultLimit() async throws {
        let (report, log) = try await flood(bytes: ProcessOperation.outputLimit + 500_000, logCap: 64 << 20)
        #expect(report.task("t")?.output["stdout"].int == Int64(ProcessOperation.outputLimit))
        let pieces = (ProcessOperation.outputLimit + 500_000 + JobOutput.maxLineBytes - 1) / JobOutput.maxLineBytes
        #expect(log.filter { $0.stream == "stdout" }.count == pieces)
        #expect(log.contains { $0.message.hasPrefix("stdout past 16 MiB: 500000 bytes not kept in the command's result") })
    }
}

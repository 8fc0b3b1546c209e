import Foundation
import Testing
import TestSupport

@Suite("Runs that tell the truth: live job output and the run contract, through slothd")
struct RunOutputDaemonTests {
    @Test("a scheduled job's stdout and stderr lines reach `sloth runs logs --follow | cat` while the job still runs")
    func liveFollow() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        // The job waits for the gate the test opens once the follower has its first line, so a follower
        // slow to start (a loaded machine) still sees the rest as it is printed.
        let gate = daemon.directory.appendingPathComponent("gate").path
        try await SchedulerDaemonTests.workflow(daemon, "ticker", """
            task('tick'):command("echo ready 0; while [ ! -e \(gate) ]; do sleep 0.05; done; for i in 1 2 3; do echo out $(date +%s%3N); echo err $(date +%s%3N) >&2; sleep 1; done"):build()
            """)
        #expect(try await daemon.sloth(["scheduler", "add", "ticks", "--workflow", "ticker", "--cron", "0 0 1 1 *", "--tz", "UTC"]).status == 0)
        let triggered = try await daemon.sloth(["scheduler", "trigger", "ticks", "-o", "json"])
        let run = try JSONDecoder().decode(SchedulerDaemonTests.Run.self, from: Data(triggered.stdout.utf8))
        // The follower writes into a FIFO this test reads as lines arrive, stamping each on arrival.
        let fifo = daemon.directory.appendingPathComponent("follow.fifo").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)  // open before the writer, which would block until it is
        try #require(reader >= 0)
        let follower = try spawnDetached(
            ["/bin/sh", "-c", "'\(CLI.binary.path)' runs logs \(run.id) --follow | cat"],
            environment: ["SLOTH_SOCKET=\(daemon.socket)", "PATH=/usr/bin:/bin"], stdout: fifo)
        _ = fcntl(reader, F_SETFL, 0)
        let arrivals = await offThread { Self.stampedLines(reader) { _ = FileManager.default.createFile(atPath: gate, contents: nil) } }
            .filter { !$0.line.contains("[tick] ready") }
        close(reader)
        #expect(exitCode(of: follower) == 0, "the follower ends with the run")
        #expect(arrivals.map { $0.line.contains("[tick] out ") || $0.line.contains("[tick] err ") } == Array(repeating: true, count: 6),
                "\(arrivals.map(\.line))")
        #expect(arrivals.filter { $0.line.contains(" ERR ") }.count == 3, "stderr lines are tagged ERR")
        // Live, not at the end: some line arrives before the job prints its last one, 2 s after its first.
        // (How soon is a figure for benchmarks: under a loaded test run even the follower's start is late.)
        let printed = arrivals.map { Int64($0.line.split(separator: " ").last ?? "") ?? 0 }
        let arrived = zip(printed, arrivals).map { $0 + $1.lateMillis }
        #expect(arrived.dropLast(2).contains { $0 < (printed.last ?? 0) }, "no line arrived while the job ran: \(arrivals)")
    }

    @Test("golden: run, runs list, runs show, status and events list, in text and JSON")
    func golden() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "release", """
            local build = task('build'):command(function() return true, 'built', {artifact = 'app.tar'} end):build()
            local test = task('test'):depends_on('build'):command("echo running tests; echo '2 tests failed' >&2; exit 3"):build()
            local deploy = task('deploy'):depends_on('test'):command("echo never"):build()
            workflow.define('release', {version = '1.4.0', tasks = {build, test, deploy}})
            """)
        let text = try await daemon.sloth(["run", "release"])
        #expect(text.status == 3)
        let json = try await daemon.sloth(["run", "release", "-o", "json"])
        let outputs: [(name: String, arguments: [String])] = [
            ("runs-list.txt", ["runs", "list"]), ("runs-list.json", ["runs", "list", "-o", "json"]),
            ("runs-show.txt", ["runs", "show", "1"]), ("runs-show.json", ["runs", "show", "1", "-o", "json"]),
            ("runs-logs.txt", ["runs", "logs", "1"]), ("runs-logs.json", ["runs", "logs", "1", "-o", "json"]),
            ("status.txt", ["status"]), ("status.json", ["status", "-o", "json"]),
            ("events-list.txt", ["events", "list", "--type", "task.*"]), ("events-list.json", ["events", "list", "--type", "task.*", "-o", "json"]),
        ]
        try check("run.txt", text.stdout, daemon)
        try check("run-stderr.txt", text.stderr, daemon)
        try check("run.json", json.stdout, daemon)
        for (name, arguments) in outputs {
            let result = try await daemon.sloth(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            try check(name, result.stdout, daemon)
        }
    }

    /// Compares with Golden/NAME once what changes from run to run (times, durations, pids, paths) is
    /// replaced by placeholders; JSON is compared pretty-printed, keys sorted.
    private func check(_ name: String, _ output: String, _ daemon: DaemonProcess) throws {
        var normalised = output.replacingOccurrences(of: daemon.directory.path, with: "<dir>")
        let rules: [(String, String)] = [
            (#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?"#, "<time>"),
            (#"(?m)^\d\d:\d\d:\d\d(\.\d{3})?"#, "<clock>"),
            (#"\d+\.\d{3}s"#, "<duration>"),
            (#""(duration_ms|pid|uptime_seconds|workers)":\d+"#, #""$1":0"#),
            (#"(?m)^(PID|UPTIME|VERSION|WORKERS)( +).*$"#, "$1$2<value>"),
        ]
        for (pattern, template) in rules {
            normalised = normalised.replacingOccurrences(of: pattern, with: template, options: .regularExpression)
        }
        if name.hasSuffix(".json") { normalised = try Self.pretty(normalised) }
        #expect(normalised == (try Golden.text(name, actual: normalised)), "\(name)")
    }

    /// One JSON document, or one per line (`runs logs -o json`), pretty-printed with sorted keys.
    private static func pretty(_ text: String) throws -> String {
        try text.split(separator: "\n").map { line in
            let value = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
            let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }.joined(separator: "\n") + "\n"
    }

    /// Lines read from `descriptor` until its writer closes, each with how many milliseconds after the
    /// time it ends with (`date +%s%3N`) it arrived; `first` is called when the first line is in.
    private static func stampedLines(_ descriptor: Int32, first: () -> Void) -> [(line: String, lateMillis: Int64)] {
        var arrivals: [(line: String, lateMillis: Int64)] = []
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return arrivals }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            pending += chunk.prefix(count)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if arrivals.isEmpty { first() }
                arrivals.append((line, now - (Int64(line.split(separator: " ").last ?? "") ?? now)))
            }
        }
    }
}

import Foundation
import GRDB
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real slothd against hostile workflows and hostile clients of its socket: it stays up, answers
/// `sloth status`, stops what it is told to stop, and leaves no job and no corrupt row behind.
@Suite("slothd under hostile workflows and clients", .serialized)
struct HostileDaemonTests {
    struct Run: Decodable {
        var id: Int64
        var state: String
    }

    static func runs(_ daemon: DaemonProcess) async throws -> [Run] {
        let listed = try await daemon.sloth(["runs", "list", "--limit", "1000", "-o", "json"])
        return try JSONDecoder().decode([Run].self, from: Data(listed.stdout.utf8))
    }

    /// Polls `sloth runs show` until the run's state satisfies `condition` or `seconds` pass; the last state seen.
    static func waitForState(_ daemon: DaemonProcess, _ id: Int64, seconds: Double,
                             until condition: (String) -> Bool) async throws -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let shown = try await daemon.sloth(["runs", "show", String(id), "-o", "json"])
            let state = try? JSONDecoder().decode(Run.self, from: Data(shown.stdout.utf8)).state
            if state.map(condition) == true || Date() > deadline { return state }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// VmRSS of a process, in bytes.
    static func residentBytes(_ pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0) * 1024
    }

    @Test("hostile workflows leave the daemon up and answering; a second round leaves its memory where the first did")
    func hostileWorkflows() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "ordinary", "task('t'):command(function() return true end)\n")
        let hostile = [
            ("exit", "task('t'):command(function() os.exit(7) end)\n"),
            ("deep-json", "task('t'):command(function() json.decode(string.rep('[', 10000) .. string.rep(']', 10000)) end)\n"),
            ("unhook", "task('t'):timeout('1s'):command(function() pcall(debug.sethook) while true do end end)\n"),
            ("pcall-loop", "task('t'):timeout('1s'):command(function() while true do pcall(function() while true do end end) end end)\n"),
            ("memory-bomb", "task('t'):command(function() local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 64) .. i end end)\n"),
        ]
        for (name, source) in hostile { try await SchedulerDaemonTests.workflow(daemon, name, source) }
        // A closed 256 MB state gives its memory back, but each malloc arena that served one keeps a few
        // MB (more arenas serve runs on a loaded machine); what must not happen is memory climbing with
        // every hostile run, each of which reaches for hundreds of MB.
        var firstRound = 0
        for round in 1...2 {
            for (name, _) in hostile {
                let run = try await daemon.sloth(["run", name, "-o", "json"])
                #expect(run.status == 3, "\(name): \(run.stderr)")
                #expect(try await daemon.sloth(["status", "-o", "json"]).status == 0, "slothd answers after \(name)")
            }
            #expect(try await daemon.sloth(["run", "ordinary", "-o", "json"]).status == 0)
            if round == 1 { firstRound = Self.residentBytes(daemon.pid) }
        }
        // A run's memory goes back as its Lua state closes, which may finish just after the run is recorded.
        let bound = firstRound + max(firstRound / 4, 16 << 20)
        var after = Self.residentBytes(daemon.pid)
        for _ in 0..<50 where after > bound {
            try await Task.sleep(for: .milliseconds(100))
            after = Self.residentBytes(daemon.pid)
        }
        #expect(firstRound > 0 && after <= bound, "VmRSS \(firstRound >> 10) kB after the first round, \(after >> 10) kB after the second")
    }

    @Test("cancel stops a pcall loop within a second")
    func cancelPcallLoop() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        try await SchedulerDaemonTests.workflow(daemon, "spin", "task('t'):command(function() while true do pcall(function() while true do end end) end end)\n")
        let started = try await daemon.sloth(["run", "spin", "--detach", "-o", "json"])
        let id = try JSONDecoder().decode(Run.self, from: Data(started.stdout.utf8)).id
        let running = try await Self.waitForState(daemon, id, seconds: 10) { $0 == "running" }
        try #require(running == "running")
        let clock = ContinuousClock(), start = clock.now
        #expect(try await daemon.sloth(["runs", "cancel", String(id)]).status == 0)
        #expect(try await Self.waitForState(daemon, id, seconds: 10) { $0 == "cancelled" } == "cancelled")
        #expect(clock.now - start < .seconds(3))
    }

    @Test("jobs die with a SIGKILLed slothd, and leftovers are killed at the next start")
    func killedDaemons() async throws {
        let rounds = Int(ProcessInfo.processInfo.environment["SLOTH_KILL_ROUNDS"] ?? "") ?? 20
        let seconds = Int.random(in: 400_000..<500_000)
        let marker = "sleep \(seconds)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-e2e-\(UUID().uuidString.prefix(8))")
        var leftovers: [pid_t] = []
        for round in 0..<rounds {
            let daemon = try DaemonProcess(directory: directory)
            try #require(daemon.waitUntilReady() != nil, "round \(round)")
            #expect(try await waitUntilGone(leftovers, marker), "round \(round): the killed daemon's jobs are killed at start")
            if round == 0 {
                try await SchedulerDaemonTests.workflow(daemon, "jobs", "task('t'):command(function() exec.run('sleep \(seconds) & sleep \(seconds + 1) & wait') end)\n")
                #expect(try await daemon.sloth(["scheduler", "add", "tick", "--workflow", "jobs", "--cron", "* * * * * *",
                                                "--overlap", "allow-all"]).status == 0)
            }
            #expect(try await daemon.sloth(["run", "jobs", "--detach"]).status == 0)
            for _ in 0..<200 where markerProcesses(marker).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            leftovers = markerProcesses(marker)
            #expect(!leftovers.isEmpty, "round \(round): a job runs")
            daemon.signal(SIGKILL)
            _ = await daemon.exitStatus()
        }

        let daemon = try DaemonProcess(directory: directory)
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await waitUntilGone(leftovers, marker), "the last killed daemon's jobs are killed at start")
        #expect(try await daemon.sloth(["scheduler", "disable", "tick"]).status == 0)
        let deadline = Date().addingTimeInterval(15)
        repeat {
            let active = try await Self.runs(daemon).filter { $0.state == "running" || $0.state == "queued" }
            for run in active { _ = try await daemon.sloth(["runs", "cancel", String(run.id)]) }
            if active.isEmpty && markerProcesses(marker).isEmpty { break }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline
        #expect(markerProcesses(marker).isEmpty, "no job outlives its run")
        #expect(try await Self.runs(daemon).contains { $0.state == "interrupted" }, "the killed daemons' runs are interrupted")

        var configuration = GRDB.Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: daemon.stateDirectory + "/slothd.db", configuration: configuration)
        #expect(try await database.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
        let duplicates = try await database.read {
            try Int.fetchOne($0, sql: """
                SELECT count(*) FROM (SELECT schedule, nominal_at FROM runs WHERE schedule IS NOT NULL
                GROUP BY schedule, nominal_at HAVING count(*) > 1)
                """)
        }
        #expect(duplicates == 0, "no nominal time of a schedule runs twice across the kills")
        daemon.signal(SIGTERM)
        #expect(await daemon.exitStatus() == 0)
    }

    @Test("2,000 idle connections and 100 slow senders do not stop `sloth status`")
    func connectionFlood() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        // Enough for the flood; other tests spawn CLIs while this one holds its thousands of descriptors.
        let restoreLimit = raiseDescriptorLimit(to: 8192)
        defer { restoreLimit() }
        let path = daemon.socket
        let (idle, slow, failed) = await offThread { () -> ([RawConnection], [RawConnection], Int) in
            let head = "POST /v1/workflows HTTP/1.1\r\nHost: x\r\nContent-Length: 8000000\r\n\r\n{\"na"
            let deadline = Date().addingTimeInterval(60)
            var idle: [RawConnection] = [], slow: [RawConnection] = [], failed = 0
            for index in 0..<2100 {
                guard Date() < deadline, let connection = RawConnection.dial(path),
                      index < 2000 || connection.send(head) else { failed += 1; continue }
                if index < 2000 { idle.append(connection) } else { slow.append(connection) }
            }
            return (idle, slow, failed)
        }
        try #require(idle.count >= 256 && !slow.isEmpty, "\(idle.count) idle and \(slow.count) slow connections, \(failed) failed")
        let clock = ContinuousClock(), start = clock.now
        let status = try await daemon.sloth(["status", "-o", "json"])
        let elapsed = clock.now - start
        #expect(status.status == 0, "\(status.stderr)")
        #expect(elapsed < .seconds(1), "sloth status took \(elapsed) (\(idle.count) idle, \(slow.count) slow, \(failed) failed to connect)")
        withExtendedLifetime((idle, slow)) {}  // every socket closes here
    }

    @Test("a half-sent request is dropped after the header timeout, an idle connection too; a whole one is answered")
    func headerTimeout() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("slothd.yaml").path
        try "header_timeout: 1\nidle_timeout: 2\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(directory: directory, extraArguments: ["--config", config])
        try #require(daemon.waitUntilReady() != nil)
        let path = daemon.socket
        let clock = ContinuousClock()
        /// Sends `text` and waits up to 5 s for the daemon to close: whether it did, after how long, what it sent.
        func closing(after text: String) async -> (closed: Bool, after: Duration, reply: String) {
            await offThread { () -> (closed: Bool, after: Duration, reply: String) in
                guard let connection = RawConnection.dial(path), connection.send(text) else { return (false, .zero, "no connection") }
                let start = clock.now
                let received = connection.receive(timeout: 5)
                return (received.closed, clock.now - start, String(decoding: received.bytes, as: UTF8.self))
            }
        }
        let half = await closing(after: "GET /v1/status HTTP/1.1\r\nHo")
        #expect(half.closed && half.after < .seconds(5), "half-sent: closed \(half.closed) after \(half.after)")
        let idle = await closing(after: "")
        #expect(idle.closed && idle.after > .milliseconds(500) && idle.after < .seconds(4), "idle: closed \(idle.closed) after \(idle.after)")
        let whole = await offThread { () -> String in
            guard let connection = RawConnection.dial(path), connection.send("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n") else { return "" }
            return String(decoding: connection.receive(timeout: 5, enough: 12).bytes, as: UTF8.self)
        }
        #expect(whole.hasPrefix("HTTP/1.1 200"), "\(whole)")
    }

    @Test("a request body over the limit is refused without being buffered")
    func oversizedBody() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let path = daemon.socket
        let answer = await offThread { () -> (reply: String, closed: Bool) in
            guard let connection = RawConnection.dial(path),
                  connection.send("POST /v1/workflows HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9000000\r\n\r\n")
            else { return ("no connection", false) }
            let total = 9_000_000, chunk = [UInt8](repeating: 32, count: 64 << 10)
            var sent = 0
            while sent < total, connection.send(total - sent >= chunk.count ? chunk : Array(chunk[..<(total - sent)])) {
                sent += min(chunk.count, total - sent)
            }
            let received = connection.receive(timeout: 5)
            return (String(decoding: received.bytes, as: UTF8.self), received.closed)
        }
        #expect(answer.reply.hasPrefix("HTTP/1.1 413") || (answer.reply.isEmpty && answer.closed), "\(answer.reply.prefix(200))")
        #expect(try await daemon.sloth(["status", "-o", "json"]).status == 0)
    }
}

/// A raw client of the control socket, for what the CLI never does: idle, half-sent and oversized requests.
/// Blocking, so use it through `offThread`; the descriptor closes with the object.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Connects, waiting up to `timeout` seconds for room in the daemon's backlog (the same bound applies
    /// to every send); nil when that fails.
    static func dial(_ path: String, timeout: Double = 1) -> RawConnection? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let connection = RawConnection(fd: fd)
        setTimeout(fd, SO_SNDTIMEO, timeout)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return connected == 0 ? connection : nil
    }

    /// Connects to 127.0.0.1:`port`, asking the kernel for a receive buffer of `receiveBuffer` bytes
    /// (set before connecting, so the window the daemon sees is small from the start).
    static func dial(port: UInt16, receiveBuffer: Int32? = nil, timeout: Double = 1) -> RawConnection? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let connection = RawConnection(fd: fd)
        setTimeout(fd, SO_SNDTIMEO, timeout)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return connected == 0 ? connection : nil
    }

    deinit { close(fd) }

    private static func setTimeout(_ fd: Int32, _ option: Int32, _ seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// All of `bytes`, or false once the daemon closes or stops reading for the send timeout.
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// What arrives until the daemon closes (`closed`), `enough` bytes are in, or nothing comes for `timeout` seconds.
    func receive(timeout: Double, enough: Int = .max) -> (bytes: [UInt8], closed: Bool) {
        Self.setTimeout(fd, SO_RCVTIMEO, timeout)
        var bytes: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count < enough {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                bytes += buffer[..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return (bytes, count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            }
        }
        return (bytes, false)
    }
}

/// Runs blocking work on a thread of its own: blocking Swift's cooperative threads would starve the
/// runs other tests have going in this process.
func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}

/// Pids of the processes whose command line contains `marker`.
func markerProcesses(_ marker: String) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry in
        guard let pid = pid_t(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
        return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(marker) ? pid : nil
    }
}

/// Waits up to 5 s until none of `pids` is a process with `marker` in its command line.
func waitUntilGone(_ pids: [pid_t], _ marker: String) async throws -> Bool {
    for _ in 0..<100 where !Set(pids).isDisjoint(with: markerProcesses(marker)) { try await Task.sleep(for: .milliseconds(50)) }
    return Set(pids).isDisjoint(with: markerProcesses(marker))
}

/// Raises this process's soft descriptor limit to `wanted` (within the hard limit); returns what restores it.
func raiseDescriptorLimit(to wanted: rlim_t) -> () -> Void {
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0 else { return {} }
    let old = limit
    limit.rlim_cur = max(limit.rlim_cur, min(wanted, limit.rlim_max))
    setrlimit(resource, &limit)
    return {
        var restored = old
        setrlimit(resource, &restored)
    }
}

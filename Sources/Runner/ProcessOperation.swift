import Foundation

/// A command run for Lua code: in its own process group, started by the spawner thread (so it dies
/// with slothd), with the daemon's systemd variables removed. Its own thread feeds its input, collects
/// its output and waits for it; cancellation or its timeout sends SIGTERM to the whole group, then
/// SIGKILL after a grace period.
struct ProcessOperation: Sendable {
    var argv: [String]
    var environment: [String: String]
    var workdir: String?
    var timeoutMillis: Int64?
    var user: String?
    var stdin: [UInt8]?
    /// The task whose code started the command: its output lines are tagged with it.
    var task: String?

    /// Variables that belong to slothd's own supervisor and must never reach a job.
    static let supervisorVariables: Set<String> = ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                                                   "WATCHDOG_USEC", "WATCHDOG_PID"]
    static let outputLimit = 16 << 20
    static let killGraceSeconds = 5.0

    /// From `{command = "shell string"}` or `{argv = {...}}`, plus `env`, `workdir`, `timeout_ms`, `user`, `stdin`, `task`.
    init(spec: LuaValue) throws(LuaHostError) {
        if let command = spec["command"].string {
            argv = ["/bin/sh", "-c", command]
        } else if let list = spec["argv"].table?.array, !list.isEmpty {
            argv = list.map { $0.string ?? "" }
        } else {
            throw LuaHostError("exec: expected a command string or an argument list")
        }
        var environment = ProcessInfo.processInfo.environment.filter { !Self.supervisorVariables.contains($0.key) }
        for (key, value) in spec["env"].table?.fields ?? [:] {
            environment[key] = value == .boolean(false) ? nil : (value.string ?? "")
        }
        self.environment = environment
        workdir = spec["workdir"].string
        timeoutMillis = spec["timeout_ms"].int
        user = spec["user"].string
        stdin = spec["stdin"].string.map { Array($0.utf8) }
        task = spec["task"].string
    }

    /// Starts the process on a thread of its own; `finish` gets `{success, stdout, stderr, exit_code[, signal][, error][, timed_out]}`.
    /// `groups` hears of the process group as it starts and ends; `log` gets every line the command prints.
    func start(groups: ProcessLedger?, log: RunLog?, finish: @escaping @Sendable (LuaValue) -> Void) -> @Sendable () -> Void {
        let stop = StopSignal()
        let operation = self
        let thread = Thread {
            // Writing to a job that closed its input is EPIPE on this thread, never a SIGPIPE that kills the process.
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
            finish(operation.run(stop: stop, groups: groups, output: log.map { JobOutput(log: $0, task: operation.task) }))
        }
        thread.name = "slothd job"
        thread.stackSize = 256 << 10
        thread.start()
        return { stop.fire() }
    }

    private func run(stop: StopSignal, groups: ProcessLedger?, output: JobOutput?) -> LuaValue {
        let identity: (uid: uid_t, gid: gid_t, groups: [gid_t])?
        do throws(LuaHostError) {
            identity = try user.map { name throws(LuaHostError) in try Self.identity(of: name) }
        } catch {
            return Self.failure(error.message)
        }
        guard let executable = Self.resolve(argv[0], path: environment["PATH"]) else {
            return Self.failure("cannot run \(argv[0]): not found in PATH")
        }
        guard let io = JobPipes(feedsInput: stdin != nil) else { return Self.failure("cannot run \(argv[0]): \(String(cString: strerror(errno)))") }
        let pid: pid_t
        do {
            pid = try ProcessSpawner.shared.spawn(.init(
                executable: executable, argv: argv, environment: environment.map { "\($0.key)=\($0.value)" },
                workdir: workdir, stdin: io.childInput, stdout: io.childOutput, stderr: io.childError, identity: identity))
        } catch {
            io.closeAll()
            return Self.failure("cannot run \(argv[0]): \(error)")
        }
        io.closeChildEnds()
        groups?.started(pid)
        defer { groups?.ended(pid) }
        let outcome = JobWatch(pid: pid, io: io, input: stdin ?? [], limit: Self.outputLimit, stop: stop,
                               timeoutMillis: timeoutMillis, graceSeconds: Self.killGraceSeconds, output: output).run()
        ProcessGroup.terminate(pid, grace: Self.killGraceSeconds)
        return Self.describe(outcome)
    }

    /// `name` as given if it has a slash, else the first executable file of that name on PATH.
    static func resolve(_ name: String, path: String?) -> String? {
        if name.contains("/") { return name }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory.isEmpty ? "." : String(directory))/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private static func identity(of user: String) throws(LuaHostError) -> (uid: uid_t, gid: gid_t, groups: [gid_t]) {
        guard let entry = getpwnam(user) else { throw LuaHostError("exec: unknown user \"\(user)\"") }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: 64)
        if getgrouplist(user, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(user, gid, &groups, &count)
        }
        return (uid, gid, Array(groups.prefix(Int(max(count, 0)))))
    }

    private static func describe(_ outcome: JobWatch.Outcome) -> LuaValue {
        let (stdout, stderr) = (String(decoding: outcome.stdout, as: UTF8.self), String(decoding: outcome.stderr, as: UTF8.self))
        switch outcome.end {
        case .timedOut(let millis): return failure("timed out after \(Double(millis) / 1000)s", timedOut: true)
        case .cancelled: return failure("cancelled")
        case .exited(let code):
            var fields: [String: LuaValue] = ["success": .boolean(code == 0), "exit_code": .integer(Int64(code)),
                                              "stdout": .string(stdout), "stderr": .string(stderr)]
            if code != 0 { fields["error"] = .string(CommandError.summary("exit status \(code)", stderr: stderr)) }
            return .table(LuaTable(fields: fields))
        case .signaled(let signal):
            return LuaTable.record(["success": .boolean(false), "exit_code": .integer(128 + Int64(signal)),
                                    "signal": .integer(Int64(signal)), "stdout": .string(stdout), "stderr": .string(stderr),
                                    "error": .string(CommandError.summary("killed by \(CommandError.signalName(signal))", stderr: stderr))])
        }
    }

    private static func failure(_ message: String, timedOut: Bool = false) -> LuaValue {
        var fields: [String: LuaValue] = ["success": .boolean(false), "exit_code": .integer(-1), "stdout": .string(""),
                                          "stderr": .string(message), "error": .string(message)]
        if timedOut { fields["timed_out"] = .boolean(true) }
        return .table(LuaTable(fields: fields))
    }
}

/// Wakes a job's thread from another thread (cancellation): a pipe its poll loop watches.
final class StopSignal: @unchecked Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init() {
        let ends = ProcessSpawner.pipe() ?? (-1, -1)
        (readEnd, writeEnd) = (ends.read, ends.write)
        _ = fcntl(writeEnd, F_SETFL, O_NONBLOCK)
    }

    func fire() { _ = withUnsafeBytes(of: UInt8(1)) { write(writeEnd, $0.baseAddress, 1) } }

    var fired: Bool {
        var probe = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        return poll(&probe, 1, 0) == 1
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }
}

import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A command run for Lua code: in its own process group, with the daemon's systemd variables removed;
/// cancellation or its timeout sends SIGTERM to the whole group, then SIGKILL after a grace period.
struct ProcessOperation: Sendable {
    var argv: [String]
    var environment: [String: String]
    var workdir: String?
    var timeoutMillis: Int64?
    var user: String?

    /// Variables that belong to slothd's own supervisor and must never reach a job.
    static let supervisorVariables: Set<String> = ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                                                   "WATCHDOG_USEC", "WATCHDOG_PID"]
    static let outputLimit = 16 << 20
    static let killGrace: Duration = .seconds(5)

    /// From `{command = "shell string"}` or `{argv = {...}}`, plus `env`, `workdir`, `timeout_ms`, `user`.
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
    }

    /// Starts the process; `finish` gets `{success, stdout, stderr, exit_code[, signal][, timed_out]}`.
    func start(finish: @escaping @Sendable (LuaValue) -> Void) -> @Sendable () -> Void {
        let operation = self
        let task = Task {
            finish(await operation.run())
        }
        return { task.cancel() }
    }

    private func run() async -> LuaValue {
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: Self.killGrace)]
        if let user {
            guard let entry = getpwnam(user) else { return Self.failure("exec: unknown user \"\(user)\"") }
            options.userID = entry.pointee.pw_uid
            options.groupID = entry.pointee.pw_gid
        }
        let platformOptions = options
        let environment = Environment.custom(self.environment.map { Array("\($0.key)=\($0.value)\0".utf8) })
        let executable = argv[0].contains("/") ? Executable.path(FilePath(argv[0])) : Executable.name(argv[0])
        let arguments = Arguments(Array(argv.dropFirst()))
        let directory = workdir.map { FilePath($0) }
        let limit = Self.outputLimit
        let timeout = timeoutMillis
        let leader = LeaderID()
        defer { ProcessGroup.terminate(leader.value, grace: Double(Self.killGrace.components.seconds)) }
        do {
            return try await withThrowingTaskGroup(of: LuaValue?.self) { group in
                group.addTask {
                    let result = try await Subprocess.run(executable, arguments: arguments, environment: environment,
                                                          workingDirectory: directory, platformOptions: platformOptions,
                                                          input: .none, output: .string(limit: limit),
                                                          error: .string(limit: limit)) { execution in
                        leader.value = execution.processIdentifier.value
                    }
                    return Self.describe(result.terminationStatus, stdout: result.standardOutput,
                                         stderr: result.standardError)
                }
                if let timeout {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(timeout))
                        return nil
                    }
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first ?? Self.failure("timed out after \(Double(timeout ?? 0) / 1000)s", timedOut: true)
            }
        } catch is CancellationError {
            return Self.failure("cancelled")
        } catch {
            return Self.failure("cannot run \(argv[0]): \(error)")
        }
    }

    /// The command's pid, which is also its process group id.
    private final class LeaderID: @unchecked Sendable {
        private let lock = NSLock()
        private var pid: pid_t = 0
        var value: pid_t {
            get { lock.withLock { pid } }
            set { lock.withLock { pid = newValue } }
        }
    }

    private static func describe(_ status: TerminationStatus, stdout: String, stderr: String) -> LuaValue {
        switch status {
        case .exited(let code):
            return LuaTable.record(["success": .boolean(code == 0), "exit_code": .integer(Int64(code)),
                                    "stdout": .string(stdout), "stderr": .string(stderr)])
        case .signaled(let signal):
            return LuaTable.record(["success": .boolean(false), "exit_code": .integer(128 + Int64(signal)),
                                    "signal": .integer(Int64(signal)), "stdout": .string(stdout), "stderr": .string(stderr)])
        }
    }

    private static func failure(_ message: String, timedOut: Bool = false) -> LuaValue {
        var fields: [String: LuaValue] = ["success": .boolean(false), "exit_code": .integer(-1), "stdout": .string(""),
                                          "stderr": .string(message), "error": .string(message)]
        if timedOut { fields["timed_out"] = .boolean(true) }
        return .table(LuaTable(fields: fields))
    }
}

import Foundation
import TestSupport

/// The real slothd on a temporary state directory and socket, stopped by PID. Started with posix_spawn
/// and reaped with waitpid: Foundation's Process would also reap it, racing the CLI runs' own waits.
final class DaemonProcess: @unchecked Sendable {
    let directory: URL
    private(set) var pid: pid_t = 0
    private var exited: Int32?
    let notify: NotifyListener
    var socket: String { directory.appendingPathComponent("control.sock").path }
    var stateDirectory: String { directory.appendingPathComponent("state").path }
    /// The daemon's stderr (appended to by every daemon started on this directory).
    var logPath: String { directory.appendingPathComponent("slothd.log").path }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slothd")

    /// - Parameters:
    ///   - socketActivated: start it under `systemd-socket-activate`, which binds the socket and passes it in.
    ///   - environment: extra variables for the daemon.
    ///   - wrapper: a command slothd runs under (it execs the daemon, keeping the pid).
    init(directory: URL? = nil, extraArguments: [String] = [], socketActivated: Bool = false, environment extra: [String: String] = [:],
         wrapper: [String] = []) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("slothd-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        notify = try NotifyListener(path: self.directory.appendingPathComponent("notify-\(UUID().uuidString.prefix(6)).sock").path)
        let daemonArguments = ["--state-dir", stateDirectory, "--socket", socket] + extraArguments
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["NOTIFY_SOCKET"] = notify.path
        let argv = socketActivated
            ? ["/usr/bin/systemd-socket-activate", "-l", socket, "-E", "NOTIFY_SOCKET=\(notify.path)"]
                + extra.map { "-E\($0.key)=\($0.value)" } + [Self.binary.path] + daemonArguments
            : wrapper + [Self.binary.path] + daemonArguments
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        pid = try spawnDetached(argv, environment: environment.map { "\($0.key)=\($0.value)" }, stderr: logPath)
    }

    /// READY=1 from the daemon, within a generous bound.
    func waitUntilReady() -> String? { notify.wait(for: "READY=1", timeout: 20) }

    func sloth(_ arguments: [String], stdin: String? = nil) async throws -> CLI.Result {
        try await CLI.run(arguments, environment: ["SLOTH_SOCKET": socket, "SLOTHD_STATE_DIR": stateDirectory], stdin: stdin)
    }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the process to exit (on its own thread); its exit status, or 128 + signal.
    func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in
                let code = exitCode(of: pid)
                exited = code
                continuation.resume(returning: code)
            }
        }
    }

    deinit {
        if exited == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}

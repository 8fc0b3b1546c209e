import Foundation
import TestSupport

/// The real slothd on a temporary state directory and socket, stopped by PID.
final class DaemonProcess: @unchecked Sendable {
    let directory: URL
    let process = Process()
    let notify: NotifyListener
    var socket: String { directory.appendingPathComponent("control.sock").path }
    var stateDirectory: String { directory.appendingPathComponent("state").path }

    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slothd")

    init(directory: URL? = nil, extraArguments: [String] = []) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("slothd-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        notify = try NotifyListener(path: self.directory.appendingPathComponent("notify-\(UUID().uuidString.prefix(6)).sock").path)
        process.executableURL = Self.binary
        process.arguments = ["--state-dir", stateDirectory, "--socket", socket] + extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// READY=1 from the daemon, within a generous bound.
    func waitUntilReady() -> String? { notify.wait(for: "READY=1", timeout: 20) }

    func sloth(_ arguments: [String]) async throws -> CLI.Result {
        try await CLI.run(arguments, environment: ["SLOTH_SOCKET": socket, "SLOTHD_STATE_DIR": stateDirectory])
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit (on its own thread); its exit status.
    func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { [process] in
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

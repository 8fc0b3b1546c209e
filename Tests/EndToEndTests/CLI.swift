import Foundation
import TestSupport

/// Runs the built `sloth` binary (it sits beside the test bundle) and captures what it prints.
enum CLI {
    struct Result: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["SLOTH_BIN"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sloth")
    }()

    /// Waits for the process on a thread of its own: blocking Swift's cooperative threads would starve
    /// the runs (their process operations are Swift tasks) that other tests start at the same time.
    /// - Parameter wrapper: a command sloth runs under (`setpriv --reuid nobody ...`).
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                    wrapper: [String] = []) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result {
                    try runBlocking(arguments, environment: environment, stdin: stdin, wrapper: wrapper)
                })
            }
        }
    }

    /// Output goes to files, not pipes: a daemon started by another test may hold a leaked pipe end,
    /// and then reading a pipe to its end would never finish.
    private static func runBlocking(_ arguments: [String], environment: [String: String], stdin: String?,
                                    wrapper: [String]) throws -> Result {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-cli-out-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        let inURL = base.appendingPathExtension("in")
        FileManager.default.createFile(atPath: inURL.path, contents: Data((stdin ?? "").utf8))
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
            try? FileManager.default.removeItem(at: inURL)
        }
        let environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pid = try spawnDetached(wrapper + [binary.path] + arguments, environment: environment.map { "\($0.key)=\($0.value)" },
                                    stdin: stdin == nil ? nil : inURL.path, stdout: outURL.path, stderr: errURL.path)
        return Result(status: exitCode(of: pid),
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

extension CLI {
    /// Output of a shell command (for looking at the system around a run).
    static func shell(_ command: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try shellBlocking(command) }) }
        }
    }

    private static func shellBlocking(_ command: String) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-shell-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        _ = exitCode(of: try spawnDetached(["/bin/sh", "-c", command], environment: environment, stdout: output))
        return String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self)
    }
}

/// Golden files under Tests/EndToEndTests/Golden; `SLOTH_UPDATE_GOLDEN=1` rewrites them.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func text(_ name: String, actual: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["SLOTH_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}

import Foundation

/// A temporary state directory for CLI runs, so tests never touch the user's database.
struct Workspace {
    let stateDirectory: URL
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples")

    init() throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
    }

    func sloth(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLI.Result {
        try await CLI.run(arguments, environment: environment.merging(["SLOTHD_STATE_DIR": stateDirectory.path]) { $1 })
    }

    /// `sloth run -f examples/NAME.sloth ... -o json`, with the JSON document decoded.
    /// - Parameter environment: variables for the run (a PATH with fake tools first).
    func runExample(_ name: String, _ extra: [String] = [], environment: [String: String] = [:]) async throws
        -> (status: Int32, document: [String: Any], stderr: String) {
        let result = try await sloth(["run", "-f", Self.examples.appendingPathComponent("\(name).sloth").path] + extra + ["-o", "json"],
                                     environment: environment)
        let document = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        return (result.status, document, result.stderr)
    }
}

extension Dictionary where Key == String, Value == Any {
    /// `document["tasks.say_hello.output.message"]`-style access.
    func at(_ path: String) -> Any? {
        var current: Any? = self
        for key in path.split(separator: ".") { current = (current as? [String: Any])?[String(key)] }
        return current
    }
}

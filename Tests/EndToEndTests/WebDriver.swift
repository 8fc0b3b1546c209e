import Control
import Foundation
import TestSupport

/// A headless Chromium driven through chromedriver's W3C WebDriver protocol (JSON over loopback HTTP).
final class WebDriver: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static let driverPath = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// Why the browser tests cannot run here, or nil.
    static var unavailable: String? {
        driverPath == nil ? "chromedriver is not installed (apt-get install chromium chromium-driver)" : nil
    }

    private let process: Process
    private let base: URL
    private(set) var session = ""

    init(javascript: Bool = true) async throws {
        let port = try LoopbackHTTPServer.closedPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.driverPath ?? "/usr/bin/chromedriver")
        process.arguments = ["--port=\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        base = URL(string: "http://127.0.0.1:\(port)")!
        for _ in 0..<100 {
            if (try? await call("GET", "/status")) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        var options: [String: Any] = ["args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]]
        if !javascript { options["prefs"] = ["profile.managed_default_content_settings.javascript": 2] }
        let answer = try await call("POST", "/session", ["capabilities": ["alwaysMatch": ["goog:chromeOptions": options]]])
        guard let id = (answer as? [String: Any])?["sessionId"] as? String else { throw Failure(description: "no session: \(String(describing: answer))") }
        session = id
    }

    /// A test that failed half-way still takes its browser down.
    deinit { if process.isRunning { process.terminate() } }

    func quit() async {
        _ = try? await call("DELETE", "/session/\(session)")
        process.terminate()
        process.waitUntilExit()
    }

    func open(_ url: String) async throws { _ = try await call("POST", "/session/\(session)/url", ["url": url]) }
    func source() async throws -> String { try await call("GET", "/session/\(session)/source") as? String ?? "" }
    func url() async throws -> String { try await call("GET", "/session/\(session)/url") as? String ?? "" }

    func element(_ css: String) async throws -> String {
        let found = try await call("POST", "/session/\(session)/element", ["using": "css selector", "value": css]) as? [String: Any]
        guard let id = found?.values.first as? String else { throw Failure(description: "no element \(css)") }
        return id
    }

    func type(_ text: String, into css: String) async throws {
        _ = try await call("POST", "/session/\(session)/element/\(try await element(css))/value", ["text": text])
    }

    func click(_ css: String) async throws { _ = try await call("POST", "/session/\(session)/element/\(try await element(css))/click", [:]) }

    func script(_ body: String) async throws -> Any? {
        try await call("POST", "/session/\(session)/execute/sync", ["script": body, "args": []])
    }

    func screenshot(to path: String) async throws {
        guard let text = try await call("GET", "/session/\(session)/screenshot") as? String, let png = Data(base64Encoded: text) else { return }
        try png.write(to: URL(fileURLWithPath: path))
    }

    private func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let request = HTTPClient.Request(method: method, url: base.absoluteString + path, headers: data == nil ? [:] : ["Content-Type": "application/json"],
                                         body: data.map { Array($0) })
        let response = try HTTPClient(timeoutSeconds: 60).send(request)
        let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        if let value = answer?["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "\(method) \(path): \(error): \(value["message"] ?? "")")
        }
        return answer?["value"]
    }
}

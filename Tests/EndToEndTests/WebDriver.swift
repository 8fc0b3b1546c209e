import Control
import Foundation
import TestSupport

/// A headless Chromium driven through chromedriver's W3C WebDriver protocol (JSON over loopback HTTP).
/// chromedriver is started with posix_spawn and reaped by PID, like the daemon; every call blocks a
/// thread of its own, never one of Swift's cooperative threads that other suites' runs need.
final class WebDriver: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static let driverPath = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let browserPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    /// Why the browser tests cannot run here, or nil.
    static var unavailable: String? {
        if driverPath == nil { return "chromedriver is not installed (apt-get install chromium chromium-driver)" }
        if browserPath == nil { return "Chromium is not installed (apt-get install chromium)" }
        return nil
    }

    private let pid: pid_t
    private let base: String
    private var reaped = false
    private(set) var session = ""

    init(javascript: Bool = true) async throws {
        let port = try LoopbackHTTPServer.closedPort()
        pid = try spawnDetached([Self.driverPath ?? "/usr/bin/chromedriver", "--port=\(port)"],
                                environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" })
        base = "http://127.0.0.1:\(port)"
        try await waitForDriver()
        var options: [String: Any] = ["args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]]
        if !javascript { options["prefs"] = ["profile.managed_default_content_settings.javascript": 2] }
        let answer = try await call("POST", "/session", ["capabilities": ["alwaysMatch": ["goog:chromeOptions": options]]])
        guard let id = (answer as? [String: Any])?["sessionId"] as? String else { throw Failure(description: "no session: \(String(describing: answer))") }
        session = id
    }

    /// chromedriver answers /status once it listens; until then the connection is refused at once.
    private func waitForDriver() async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while (try? await call("GET", "/status")) == nil {
            guard ContinuousClock.now < deadline else { throw Failure(description: "chromedriver did not answer on \(base) within 20 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A test that failed half-way still takes its browser down.
    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            _ = exitCode(of: pid)
        }
    }

    func quit() async {
        _ = try? await call("DELETE", "/session/\(session)")
        kill(pid, SIGTERM)
        let pid = pid
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { _ = exitCode(of: pid); done.resume() }
        }
        reaped = true
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

    /// Runs `body` in the page with a callback `done` as its last argument; answers what it was called with.
    func asyncScript(_ body: String, timeoutMillis: Int) async throws -> Any? {
        _ = try await call("POST", "/session/\(session)/timeouts", ["script": timeoutMillis])
        return try await call("POST", "/session/\(session)/execute/async", ["script": body, "args": []])
    }

    func screenshot(to path: String) async throws {
        guard let text = try await call("GET", "/session/\(session)/screenshot") as? String, let png = Data(base64Encoded: text) else { return }
        try png.write(to: URL(fileURLWithPath: path))
    }

    private func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let request = HTTPClient.Request(method: method, url: base + path, headers: data == nil ? [:] : ["Content-Type": "application/json"],
                                         body: data.map { Array($0) })
        let response = try await offThread { Result { try HTTPClient(timeoutSeconds: 60).send(request) } }.get()
        let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        if let value = answer?["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "\(method) \(path): \(error): \(value["message"] ?? "")")
        }
        return answer?["value"]
    }
}

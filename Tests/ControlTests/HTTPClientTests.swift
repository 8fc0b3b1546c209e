import Control
import TestSupport
import Foundation
import Testing

@Suite("The libcurl bridge")
struct HTTPClientTests {
    @Test("GET against a loopback server returns its status and body")
    func getOverTCP() throws {
        let server = try LoopbackHTTPServer(body: "hello from loopback")
        let response = try HTTPClient(timeoutSeconds: 5).get("http://127.0.0.1:\(server.port)/ping")
        #expect(response.status == 200)
        #expect(response.text == "hello from loopback")
    }

    @Test("GET over a Unix socket, the way sloth will reach slothd")
    func getOverUnixSocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-http-\(getpid()).sock").path
        let server = try LoopbackHTTPServer(status: "404 Not Found", body: "no such run", unixSocketPath: path)
        let response = try HTTPClient(unixSocket: server.socketPath, timeoutSeconds: 5).get("http://localhost/runs/9")
        #expect(response.status == 404)
        #expect(response.text == "no such run")
    }

    @Test("a refused connection is a transport error, not a crash")
    func connectionRefused() throws {
        let port = try LoopbackHTTPServer.closedPort()
        #expect(throws: HTTPClient.Error.self) {
            try HTTPClient(timeoutSeconds: 5).get("http://127.0.0.1:\(port)/")
        }
    }
}

import Control
import Foundation
import Testing
import TestSupport

/// The dashboard's TCP door against clients that misbehave: the daemon keeps answering and its memory
/// stays bounded.
@Suite("dashboard under hostile clients", .serialized)
struct DashboardHostileTests {
    @Test("live-log streams that are never read neither hold up the run nor grow the daemon's memory")
    func unreadLiveStreams() async throws {
        let port = try LoopbackHTTPServer.closedPort()
        let daemon = try DaemonProcess(extraArguments: ["--http-listen", "127.0.0.1:\(port)", "--shutdown-grace", "0"])
        try #require(daemon.waitUntilReady() != nil, "slothd did not start: \(daemon.log)")
        // About 4 MB of log, printed as fast as Lua goes: far more than the sockets below can hold.
        try await SchedulerDaemonTests.workflow(daemon, "flood", """
            task('t'):command(function()
              exec.run('sleep 1')
              for i = 1, 20000 do print(string.rep('x', 200) .. i) end
              return true
            end):build()
            """)
        let token = try await daemon.sloth(["ui", "--token", "--user", "mallory"]).stdout.split(separator: "\n").last.map(String.init) ?? ""
        let started = try await daemon.sloth(["run", "flood", "--detach", "-o", "json"])
        let id = try JSONDecoder().decode(HostileDaemonTests.Run.self, from: Data(started.stdout.utf8)).id
        let cookie = try await offThread {
            Result { try HTTPClient().send(.init(method: "POST", url: "http://127.0.0.1:\(port)/login", body: Array("token=\(token)".utf8), followRedirects: false)) }
        }.get().headers.first { $0.key.lowercased() == "set-cookie" }?.value.split(separator: ";").first.map(String.init) ?? ""
        try #require(cookie.hasPrefix("slothd_session="))
        let before = HostileDaemonTests.residentBytes(daemon.pid)

        let readers = await offThread { () -> [RawConnection] in
            (0..<10).compactMap { _ in
                let connection = RawConnection.dial(port: port, receiveBuffer: 4096)
                return connection?.send("GET /runs/\(id)/live HTTP/1.1\r\nHost: x\r\nCookie: \(cookie)\r\n\r\n") == true ? connection : nil
            }
        }
        #expect(readers.count == 10)
        let state = try await HostileDaemonTests.waitForState(daemon, id, seconds: 120) { $0 != "running" && $0 != "queued" }
        #expect(state == "succeeded", "the run ended \(state ?? "?") with its streams unread")
        #expect(try await daemon.sloth(["status", "-o", "json"]).status == 0, "slothd answers beside the unread streams")
        let after = HostileDaemonTests.residentBytes(daemon.pid)
        #expect(after - before < 48 << 20, "VmRSS \(before >> 10) kB before the streams, \(after >> 10) kB with ten unread")
        // The streams were answered (the head and the first events), then held back by the peers' windows.
        let first = await offThread { readers[0].receive(timeout: 2, enough: 12) }
        #expect(String(decoding: first.bytes.prefix(12), as: UTF8.self) == "HTTP/1.1 200")
        withExtendedLifetime(readers) {}
        daemon.signal(SIGTERM)
        #expect(await daemon.exitStatus() == 0)
    }
}

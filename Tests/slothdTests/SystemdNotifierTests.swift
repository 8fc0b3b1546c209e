import Foundation
import Testing
@testable import slothd
#if canImport(Glibc)
import Glibc
#endif

@Suite("The libsystemd bridge", .serialized)
struct SystemdNotifierTests {
    @Test("READY=1 reaches the datagram socket named by NOTIFY_SOCKET")
    func readyReachesNotifySocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-notify-\(getpid()).sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        setenv("NOTIFY_SOCKET", path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        #expect(SystemdNotifier().send(.ready(status: "3 schedules")))

        var buffer = [UInt8](repeating: 0, count: 512)
        let received = recv(fd, &buffer, buffer.count, 0)
        try #require(received > 0)
        #expect(String(decoding: buffer[..<received], as: UTF8.self) == "READY=1\nSTATUS=3 schedules")
    }

    @Test("without NOTIFY_SOCKET, notifying is a quiet no-op")
    func noSocketNoOp() {
        unsetenv("NOTIFY_SOCKET")
        #expect(SystemdNotifier().send(.watchdog) == false)
        #expect(SystemdNotifier().watchdogInterval == nil)
    }
}

import Foundation
import Testing

/// `sloth` run as an unprivileged user against a root daemon's socket.
@Suite("who may use the control socket, as the CLI reports it",
       .enabled(if: getuid() == 0 && getpwnam("nobody") != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                "needs root, the user nobody and setpriv"))
struct SocketPermissionTests {
    static let asNobody = ["/usr/bin/setpriv", "--reuid=nobody", "--regid=\(getpwnam("nobody").map { $0.pointee.pw_gid } ?? 65534)",
                           "--clear-groups", "--"]

    func asNobody(_ daemon: DaemonProcess, _ arguments: [String]) async throws -> CLI.Result {
        try await CLI.run(arguments, environment: ["SLOTH_SOCKET": daemon.socket, "HOME": "/"], wrapper: Self.asNobody)
    }

    @Test("a socket whose mode keeps the user out: permission denied, naming the group that may connect, exit 1")
    func permissionDenied() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let result = try await asNobody(daemon, ["status"])
        let group = String(cString: getgrgid(getgid())!.pointee.gr_name)
        #expect(result.status == 1)
        #expect(result.stderr == "sloth: permission denied on \(daemon.socket) (root, the daemon's user or group \(group) may connect)\n")
    }

    @Test("a peer slothd refuses (HTTP 403) exits 1 with slothd's reason")
    func refusedPeer() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        #expect(chmod(daemon.socket, 0o666) == 0)
        let result = try await asNobody(daemon, ["status"])
        let uid = getpwnam("nobody")!.pointee.pw_uid
        #expect(result.status == 1)
        #expect(result.stderr == "sloth: uid \(uid) may not use slothd (allowed: root, the daemon's user and its configured group)\n")
    }
}

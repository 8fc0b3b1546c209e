import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Unix socket of `type` bound to `path` (stream for servers, datagram for a fake NOTIFY_SOCKET).
func boundUnixSocket(path: String, type: Int32) throws -> Int32 {
    let fd = socket(AF_UNIX, type, 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0 else {
        close(fd)
        throw POSIXError(.EADDRINUSE)
    }
    return fd
}

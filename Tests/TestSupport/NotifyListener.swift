import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fake systemd: a datagram socket to pass as NOTIFY_SOCKET, collecting what the daemon sends.
public final class NotifyListener: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = try boundUnixSocket(path: path, type: Int32(SOCK_DGRAM.rawValue))
    }

    /// The next datagram, or nil after `timeout` seconds.
    public func next(timeout: Double) -> String? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    /// Waits until a datagram contains `text`; returns it, or nil after `timeout` seconds.
    public func wait(for text: String, timeout: Double) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if let message = next(timeout: deadline.timeIntervalSinceNow), message.contains(text) { return message }
        }
        return nil
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

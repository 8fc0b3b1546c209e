import ArgumentParser
import Foundation
import Synchronization

/// Plain sockets for what curl's one-request-at-a-time handles do not do: many streams held open.
enum RawHTTP {
    /// A server-sent-events GET on 127.0.0.1, read to its end by a thread of its own, counting events.
    final class Stream: Sendable {
        private let fd: Int32
        private let counted = Atomic<Int>(0)
        var events: Int { counted.load(ordering: .relaxed) }

        init(port: UInt16, path: String, cookie: String) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = port.bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else { throw ValidationError("cannot connect to 127.0.0.1:\(port)") }
            let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(cookie)\r\nAccept: text/event-stream\r\n\r\n"
            _ = request.withCString { send(fd, $0, strlen($0), 0) }
            Thread.detachNewThread { [self] in read() }
        }

        private func read() {
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                let got = recv(fd, &buffer, buffer.count, 0)
                guard got > 0 else { return }
                // Each event carries one `id:` field at the start of a line.
                let text = String(decoding: buffer[..<got], as: UTF8.self)
                counted.add(text.components(separatedBy: "\nid: ").count - 1 + (text.hasPrefix("id: ") ? 1 : 0), ordering: .relaxed)
            }
        }

        func close() { shutdown(fd, Int32(SHUT_RDWR)) }
    }
}

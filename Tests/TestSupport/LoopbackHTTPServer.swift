import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-shot HTTP server on 127.0.0.1 or a Unix socket, answering every request with a fixed response
/// and keeping the request it got (`received`).
public final class LoopbackHTTPServer: @unchecked Sendable {
    let fd: Int32
    public let port: UInt16
    public let socketPath: String?
    private let response: String
    private let arrived = DispatchSemaphore(value: 0)
    private var request = ""

    public init(status: String = "200 OK", body: String, headers: [String: String] = [:], unixSocketPath: String? = nil) throws {
        let extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
        response = "HTTP/1.1 \(status)\r\nContent-Length: \(body.utf8.count)\r\n\(extra)Connection: close\r\n\r\n\(body)"
        socketPath = unixSocketPath
        (fd, port) = try Self.listen(unixSocketPath: unixSocketPath)
        Thread.detachNewThread { [self] in serveOne() }
    }

    private static func listen(unixSocketPath: String?) throws -> (Int32, UInt16) {
        let fd: Int32, port: UInt16
        if let unixSocketPath {
            fd = try boundUnixSocket(path: unixSocketPath, type: Int32(SOCK_STREAM.rawValue))
            port = 0
        } else {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            port = try bindLoopback(fd)
        }
        Glibc.listen(fd, 4)
        return (fd, port)
    }

    /// A loopback port that was just bound and released, so nothing listens on it.
    public static func closedPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return try bindLoopback(fd)
    }

    /// Binds `fd` to 127.0.0.1 on a port the kernel picks, and returns that port.
    static func bindLoopback(_ fd: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return UInt16(bigEndian: address.sin_port)
    }

    /// The request line, headers and body of the request served, once it has arrived.
    public func received(within seconds: Double = 10) -> String? {
        guard arrived.wait(timeout: .now() + seconds) == .success else { return nil }
        arrived.signal()
        return request
    }

    private func serveOne() {
        let client = accept(fd, nil, nil)
        guard client >= 0 else { return }
        request = Self.readRequest(client)
        arrived.signal()
        _ = response.withCString { write(client, $0, strlen($0)) }
        close(client)
    }

    /// Reads the headers, then as much body as Content-Length says (curl may send them apart).
    private static func readRequest(_ client: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let text = String(decoding: bytes, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let length = text[..<end.lowerBound].split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if text[end.upperBound...].utf8.count >= length { break }
            }
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit {
        close(fd)
        if let socketPath { unlink(socketPath) }
    }
}

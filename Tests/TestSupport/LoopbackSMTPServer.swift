import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-message SMTP server on 127.0.0.1 that says yes to everything (AUTH PLAIN included, no TLS)
/// and keeps what the client said: the commands and the message.
public final class LoopbackSMTPServer: @unchecked Sendable {
    let fd: Int32
    public let port: UInt16
    private let done = DispatchSemaphore(value: 0)
    private var commands: [String] = []
    private var message = ""

    public init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        fd = socketFD
        port = try LoopbackHTTPServer.bindLoopback(socketFD)
        Glibc.listen(fd, 4)
        Thread.detachNewThread { [self] in serveOne() }
    }

    /// The client's commands (MAIL FROM, RCPT TO, AUTH ...) and the message, once the session has ended.
    public func received(within seconds: Double = 10) -> (commands: [String], message: String)? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        done.signal()
        return (commands, message)
    }

    private func serveOne() {
        defer { done.signal() }
        let client = accept(fd, nil, nil)
        guard client >= 0 else { return }
        defer { close(client) }
        var pending = ""
        func send(_ line: String) { _ = (line + "\r\n").withCString { write(client, $0, strlen($0)) } }
        func nextLine() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !pending.contains("\r\n") {
                let count = read(client, &buffer, buffer.count)
                guard count > 0 else { return nil }
                pending += String(decoding: buffer[..<count], as: UTF8.self)
            }
            let end = pending.range(of: "\r\n")!
            defer { pending = String(pending[end.upperBound...]) }
            return String(pending[..<end.lowerBound])
        }
        send("220 localhost ESMTP test")
        while let line = nextLine() {
            commands.append(line)
            switch line.uppercased() {
            case let verb where verb.hasPrefix("EHLO"): send("250-localhost"); send("250 AUTH PLAIN")
            case let verb where verb.hasPrefix("AUTH"):
                if verb.split(separator: " ").count == 2 {
                    send("334 ")
                    if let credentials = nextLine() { commands.append(credentials) }
                }
                send("235 ok")
            case "DATA":
                send("354 go on")
                var lines: [String] = []
                while let body = nextLine(), body != "." { lines.append(body) }
                message = lines.joined(separator: "\n")
                send("250 queued")
            case "QUIT": send("221 bye"); return
            default: send("250 ok")
            }
        }
    }

    deinit { close(fd) }
}

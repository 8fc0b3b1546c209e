import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// HTTP/1.1 on the control socket (mode 0660). Each connection is read request by request; bodies over
/// the limit are refused with 413 and the connection closed, so a bad client cannot exhaust the daemon.
struct ControlServer: Sendable {
    enum Listener: Sendable {
        /// Bind this path (mode 0660), replacing a stale socket file.
        case path(String)
        /// A listening socket systemd passed in (socket activation).
        case descriptor(Int32)
    }

    let listener: Listener
    let router: ControlRouter
    static let maxBodyBytes = 8 << 20

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Serves until the task is cancelled; `listening()` runs once the socket accepts connections.
    func run(listening: @Sendable () -> Void) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).serverChannelOption(.backlog, value: 256)
        let initializer: @Sendable (Channel) -> EventLoopFuture<(Connection, UInt32?)> = { channel in
            channel.eventLoop.makeCompletedFuture {
                let peer = PeerCredentials.uid(of: channel)
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                return (try Connection(wrappingChannelSynchronously: channel), peer)
            }
        }
        let server: NIOAsyncChannel<(Connection, UInt32?), Never>
        switch listener {
        case .path(let path):
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            chmod(path, 0o660)
        case .descriptor(let descriptor):
            server = try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
        }
        listening()
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await (connection, peer) in connections {
                    group.addTask { await serve(connection, peer: peer) }
                }
            }
        }
    }

    private func serve(_ connection: Connection, peer: UInt32?) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    (head, body, tooLarge) = (requestHead, [], false)
                case .body(let chunk):
                    if body.count + chunk.readableBytes > Self.maxBodyBytes { tooLarge = true } else { body += Array(buffer: chunk) }
                case .end:
                    guard let requestHead = head else { continue }
                    let response = tooLarge
                        ? ControlResponse.failure(413, "too_large", "request body over \(Self.maxBodyBytes) bytes")
                        : await router.respond(Self.request(requestHead, body: body, peer: peer))
                    try await Self.write(response, to: outbound, keepAlive: requestHead.isKeepAlive && !tooLarge)
                    if tooLarge || !requestHead.isKeepAlive { return }
                }
            }
        }
    }

    static func request(_ head: HTTPRequestHead, body: [UInt8], peer: UInt32?) -> ControlRequest {
        let components = URLComponents(string: head.uri)
        var path = (components?.path ?? head.uri).split(separator: "/").map(String.init)
        if path.first == "v1" { path.removeFirst() } else { path = ["unversioned"] + path }
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        return ControlRequest(method: head.method.rawValue, path: path, query: query, body: body, peerUID: peer)
    }

    private static func write(_ response: ControlResponse, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
                              keepAlive: Bool) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        try await outbound.write(.head(head))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
        try await outbound.write(.end(nil))
    }
}

/// SO_PEERCRED: the uid of the process at the other end of a Unix socket.
enum PeerCredentials {
    /// `struct ucred` (glibc hides it behind _GNU_SOURCE): pid, uid, gid.
    struct Credentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Called on the channel's event loop, where the option future is already complete.
    static func uid(of channel: Channel) -> UInt32? {
        guard let provider = channel as? SocketOptionProvider else { return nil }
        let credentials: EventLoopFuture<Credentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        var uid: UInt32?
        credentials.assumeIsolated().whenSuccess { uid = $0.uid }
        return uid
    }
}

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// HTTP/1.1 on the control socket (mode 0660, the configured group), and the same server on the
/// dashboard's TCP listener. A socket peer is checked at accept, before any byte is read; a TCP peer
/// passes the web door (`WebGate`: session or login token) on every request. Connections are limited
/// in number and in time (`ControlLimits`), and a body is counted as it arrives and refused as soon as
/// it passes the limit, so no client can exhaust the daemon.
public struct ControlServer: Sendable {
    public enum Listener: Sendable {
        /// Bind this path (mode 0660), replacing a stale socket file.
        case path(String)
        /// A listening socket systemd passed in (socket activation).
        case descriptor(Int32)
        /// The dashboard's address (`--http-listen`); TLS when `tls` is given.
        case tcp(host: String, port: Int, tls: NIOSSLContext?)
    }

    let listener: Listener
    let router: ControlRouter
    let access: AccessPolicy
    let connections: ConnectionTable
    /// Group of the socket file (members may connect), from the configuration.
    var socketGroup: gid_t?
    /// The web door of a TCP listener: pages, login, and `/v1` for a logged-in user.
    let web: WebGate?
    /// Where requests are answered: routes read and write SQLite synchronously, which must not block
    /// Swift's cooperative threads.
    let routeThreads = BlockingThreads(name: "slothd control", threads: 4)

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    enum Accepted: Sendable {
        /// `uid` on the Unix socket, `remote` (the peer's address) on TCP.
        case serve(Connection, uid: UInt32?, remote: String?)
        /// Answered and closed at accept: a refused peer or no room.
        case turnedAway
    }

    /// Serves until the task is cancelled; `listening()` runs once the socket accepts connections.
    public init(listener: Listener, router: ControlRouter, access: AccessPolicy, connections: ConnectionTable, socketGroup: gid_t?,
                web: WebGate? = nil) {
        (self.listener, self.router, self.access, self.connections, self.socketGroup) = (listener, router, access, connections, socketGroup)
        self.web = web
    }

    public func run(listening: @Sendable () -> Void) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).serverChannelOption(.backlog, value: 256)
        let (access, connections) = (self.access, self.connections)
        if case .tcp(let host, let port, let tls) = listener {
            let server = try await bootstrap.serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in Self.acceptWeb(channel, connections: connections, tls: tls) }
            return try await serve(server, listening: listening)
        }
        let initializer: @Sendable (Channel) -> EventLoopFuture<Accepted> = { channel in
            channel.eventLoop.makeCompletedFuture {
                guard let uid = PeerCredentials.uid(of: channel) else {
                    return Self.turnAway(channel, 403, "slothd could not read the peer's credentials (SO_PEERCRED); refused")
                }
                guard access.allows(uid) else {
                    connections.refused("uid \(uid) is not allowed")
                    return Self.turnAway(channel, 403, "uid \(uid) may not use slothd (allowed: root, the daemon's user and its configured group)")
                }
                guard connections.admit(channel) else {
                    return Self.turnAway(channel, 503, "slothd has no room for another control connection; try again")
                }
                return .serve(try Self.http(channel, connections), uid: uid, remote: nil)
            }
        }
        let server: NIOAsyncChannel<Accepted, Never>
        switch listener {
        case .path(let path):
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            chmod(path, 0o660)
            if let socketGroup { chown(path, uid_t.max, socketGroup) }
        case .descriptor(let descriptor):
            server = try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
        case .tcp: preconditionFailure("bound above")
        }
        try await serve(server, listening: listening)
    }

    private func serve(_ server: NIOAsyncChannel<Accepted, Never>, listening: @Sendable () -> Void) async throws {
        listening()
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { accepted in
                for try await connection in accepted {
                    guard case .serve(let connection, let uid, let remote) = connection else { continue }
                    group.addTask { await serve(connection, peer: uid, remote: remote) }
                }
            }
        }
    }

    /// A canned answer written straight to the socket. Only our side is shut at once: closing both while
    /// the client is still sending its request would fail that send (EPIPE) before it read the answer,
    /// and the user would see "cannot reach slothd" instead of the reason. What it sends is discarded;
    /// the connection closes when it hangs up, or after a second.
    private static func turnAway(_ channel: Channel, _ status: Int, _ message: String) -> Accepted {
        let body = ControlResponse.failure(status, status == 403 ? "forbidden" : "busy", message).body
        let reason = status == 403 ? "Forbidden" : "Service Unavailable"
        var buffer = channel.allocator.buffer(capacity: body.count + 128)
        buffer.writeString("HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n")
        buffer.writeBytes(body)
        channel.writeAndFlush(buffer).whenComplete { _ in channel.close(mode: .output, promise: nil) }
        channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        return .turnedAway
    }

    /// A TCP peer: no credentials to check; every request passes the web door instead.
    private static func acceptWeb(_ channel: Channel, connections: ConnectionTable, tls: NIOSSLContext?) -> EventLoopFuture<Accepted> {
        channel.eventLoop.makeCompletedFuture {
            guard connections.admit(channel) else {
                return Self.turnAway(channel, 503, "slothd has no room for another dashboard connection; try again")
            }
            if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
            return .serve(try http(channel, connections), uid: nil, remote: channel.remoteAddress?.ipAddress)
        }
    }

    /// The HTTP codec between the connection's deadlines and its request phases.
    private static func http(_ channel: Channel, _ connections: ConnectionTable) throws -> Connection {
        let deadlines = ConnectionDeadlines(table: connections)
        try channel.pipeline.syncOperations.addHandler(deadlines)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
        try channel.pipeline.syncOperations.addHandler(RequestPhases(deadlines: deadlines))
        return try Connection(wrappingChannelSynchronously: channel)
    }

    private func serve(_ connection: Connection, peer: UInt32?, remote: String?) async {
        var held = 0
        defer { connections.releaseBody(held) }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    (head, body) = (requestHead, [])
                    if let declared = requestHead.headers.first(name: "Content-Length").flatMap(Int.init), declared > connections.limits.maxBodyBytes {
                        return try await Self.write(tooLarge, to: outbound, keepAlive: false)
                    }
                case .body(let chunk):
                    guard body.count + chunk.readableBytes <= connections.limits.maxBodyBytes else {
                        return try await Self.write(tooLarge, to: outbound, keepAlive: false)
                    }
                    guard connections.reserveBody(chunk.readableBytes) else {
                        return try await Self.write(.failure(503, "busy", "slothd holds too many request bodies at once; try again"),
                                                    to: outbound, keepAlive: false)
                    }
                    held += chunk.readableBytes
                    body += chunk.readableBytesView
                case .end:
                    guard let requestHead = head else { continue }
                    var request = ControlRequest(requestHead, body: body, peer: peer)
                    request.remote = remote
                    let response = await withTaskExecutorPreference(routeThreads) {
                        if let web { await web.respond(request, router: router) } else { await router.respond(request) }
                    }
                    connections.releaseBody(held)
                    (held, body) = (0, [])
                    try await Self.write(response, to: outbound, keepAlive: requestHead.isKeepAlive)
                    if !requestHead.isKeepAlive { return }
                }
            }
        }
    }

    private var tooLarge: ControlResponse {
        .failure(413, "too_large", "request body over \(connections.limits.maxBodyBytes) bytes")
    }

    private static func write(_ response: ControlResponse, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
                              keepAlive: Bool) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        if response.stream == nil { headers.add(name: "Content-Length", value: String(response.body.count)) }
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        try await outbound.write(.head(head))
        if let stream = response.stream {
            // Chunked: the codec frames each piece; a write to a peer that left throws and ends the stream.
            try await stream { piece in try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: piece)))) }
        } else {
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
        }
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

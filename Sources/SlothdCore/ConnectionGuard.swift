import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// What one client may hold of the control socket (SPEC section 7, docs/operations.md).
public struct ControlLimits: Sendable, Equatable {
    /// Connections open at once; past it the longest-idle connection is closed, or the new one refused.
    public var maxConnections = 256
    /// A request's head must arrive within this of its first byte (or of the connect).
    public var headerTimeout: TimeAmount = .seconds(10)
    /// A keep-alive connection with no request in flight is closed after this.
    public var idleTimeout: TimeAmount = .seconds(60)
    public var maxBodyBytes = 8 << 20
    /// Request bodies held by all connections together; past it a request is refused with 503.
    public var bodyBudgetBytes = 64 << 20

    public init(maxConnections: Int = 256, headerTimeout: TimeAmount = .seconds(10), idleTimeout: TimeAmount = .seconds(60)) {
        (self.maxConnections, self.headerTimeout, self.idleTimeout) = (maxConnections, headerTimeout, idleTimeout)
    }
}

/// The open connections: admits new ones against the limit, evicting the one idle longest when full,
/// and counts the body bytes all of them hold. Logs a refusal at most once a minute.
public final class ConnectionTable: @unchecked Sendable {
    private struct Entry {
        let channel: any Channel
        var busy = false
        var lastActive: NIODeadline
    }

    let limits: ControlLimits
    private let log: DaemonLog
    private let lock = NIOLock()
    private var entries: [ObjectIdentifier: Entry] = [:]
    private var bodyBytes = 0
    private var lastRefusalLog: NIODeadline?

    public init(limits: ControlLimits, log: DaemonLog) { (self.limits, self.log) = (limits, log) }

    var count: Int { lock.withLock { entries.count } }

    /// False when every open connection is in the middle of a request: the new one is refused.
    func admit(_ channel: any Channel) -> Bool {
        let now = NIODeadline.now()
        let (admitted, evicted): (Bool, (any Channel)?) = lock.withLock {
            var evicted: (any Channel)?
            if entries.count >= limits.maxConnections {
                guard let oldest = entries.filter({ !$0.value.busy }).min(by: { $0.value.lastActive < $1.value.lastActive }) else {
                    return (false, nil)
                }
                entries[oldest.key] = nil
                evicted = oldest.value.channel
            }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, lastActive: now)
            return (true, evicted)
        }
        evicted?.close(promise: nil)
        if !admitted { refused("all \(limits.maxConnections) control connections are busy with requests (max_connections)") }
        return admitted
    }

    func mark(_ channel: any Channel, busy: Bool) {
        lock.withLock {
            entries[ObjectIdentifier(channel)]?.busy = busy
            entries[ObjectIdentifier(channel)]?.lastActive = .now()
        }
    }

    func remove(_ channel: any Channel) {
        _ = lock.withLock { entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Takes `bytes` of the shared body budget; false (nothing taken) when it would overflow.
    func reserveBody(_ bytes: Int) -> Bool {
        lock.withLock {
            guard bodyBytes + bytes <= limits.bodyBudgetBytes else { return false }
            bodyBytes += bytes
            return true
        }
    }

    func releaseBody(_ bytes: Int) { lock.withLock { bodyBytes -= bytes } }

    /// A refusal, logged once a minute whatever the rate.
    func refused(_ reason: String) {
        let now = NIODeadline.now()
        let due = lock.withLock {
            guard lastRefusalLog.map({ now - $0 >= .minutes(1) }) ?? true else { return false }
            lastRefusalLog = now
            return true
        }
        if due { log.warn("control socket: refused a connection: \(reason)") }
    }
}

/// Closes a connection whose request head is slow to come (`headerTimeout` from its first byte or
/// from the connect), whose body stalls (`headerTimeout` between chunks) or that sits idle between
/// requests (`idleTimeout`); while the daemon works on a request no timer runs. Sits in front of the
/// HTTP decoder, so it sees raw bytes; `RequestPhases` behind the codec tells it where a request is.
final class ConnectionDeadlines: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// `head`: one deadline for the whole head; `body`: a deadline per chunk; `serving`: none.
    private enum Phase { case idle, head, body, serving }

    private let table: ConnectionTable
    private var phase = Phase.head
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(table: ConnectionTable) { self.table = table }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm(table.limits.headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .idle:
            phase = .head
            arm(table.limits.headerTimeout)
        case .body:
            arm(table.limits.headerTimeout)
        case .head, .serving:
            break
        }
        context.fireChannelRead(data)
    }

    /// The head is complete: from now on the body must keep coming.
    func headComplete() {
        phase = .body
        arm(table.limits.headerTimeout)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        table.remove(context.channel)
        context.fireChannelInactive()
    }

    /// A whole request has been decoded: no deadline while it is being answered.
    func requestComplete() {
        phase = .serving
        timer?.cancel()
        if let channel = context?.channel { table.mark(channel, busy: true) }
    }

    /// Its response has gone out: the connection is idle until the next request.
    func responseComplete() {
        phase = .idle
        if let channel = context?.channel { table.mark(channel, busy: false) }
        arm(table.limits.idleTimeout)
    }

    private func arm(_ after: TimeAmount) {
        timer?.cancel()
        guard let context else { return }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: after) { channel.close(promise: nil) }
    }
}

/// Behind the HTTP codec: tells the deadlines handler when a request is complete and when its
/// response has been written.
final class RequestPhases: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let deadlines: ConnectionDeadlines
    init(deadlines: ConnectionDeadlines) { self.deadlines = deadlines }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines.headComplete()
        case .end: deadlines.requestComplete()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { deadlines.responseComplete() }
        context.write(data, promise: promise)
    }
}

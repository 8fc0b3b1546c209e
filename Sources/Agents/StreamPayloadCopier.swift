import NIOCore
import NIOHTTP2

/// Put first in each agent stream's pipeline: hands gRPC's message decoder a copy of every DATA
/// payload, sized to the payload.
///
/// A payload is a slice of the connection's read buffer, and the decoder keeps the last one it was
/// given (NIO's `NIOSingleStepByteToMessageProcessor` adopts a buffer it receives while empty). An idle
/// agent's stream thus held its last heartbeat's whole read buffer, a different one for every
/// stream: most of the master's memory per agent. The copy is a heartbeat's few bytes.
final class StreamPayloadCopier: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .data(var frame) = unwrapInboundIn(data), case .byteBuffer(let payload) = frame.data else {
            context.fireChannelRead(data)
            return
        }
        var copy = context.channel.allocator.buffer(capacity: payload.readableBytes)
        copy.writeImmutableBuffer(payload)
        frame.data = .byteBuffer(copy)
        context.fireChannelRead(wrapInboundOut(.data(frame)))
    }

    /// The transport's per-stream hook: the copier goes in front of gRPC's own stream handler.
    @Sendable static func install(on channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(StreamPayloadCopier(), position: .first)
        }
    }
}

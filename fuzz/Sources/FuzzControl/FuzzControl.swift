// libFuzzer harness for the control socket's request path: raw bytes -> NIO's HTTP/1 server pipeline
// (the same `configureHTTPServerPipeline()` slothd's ControlServer installs: HTTPRequestDecoder over
// llhttp, HTTPServerPipelineHandler, HTTPServerProtocolErrorHandler, HTTPResponseEncoder) in an
// EmbeddedChannel, then, for each complete request, slothd's URI -> path/query mapping and Endpoint
// matching (Sources/slothd/ControlRequest.swift, compiled in through a symlink). Like ControlServer.serve, it answers
// every request so pipelined ones are released, and stops after a request that is not keep-alive.
//
// Checked, besides no crash / sanitizer report / hang:
//   - NIO's part order: body and end only inside a request begun by a head;
//   - the mapping: no empty path segment (an encoded %2F stays inside its segment); an Endpoint only for 1...3 segments;
//   - chunking does not matter: the input fed whole and fed in three pieces yields the same transcript.
// FUZZ_TRACE=1 prints each transcript (run the binary on corpus files to see how URIs are routed).
import NIOCore
import NIOEmbedded
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

private let trace = getenv("FUZZ_TRACE") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let whole = serve(bytes, chunks: [size])
    if trace { print(whole.joined(separator: "\n") + "\n--") }
    if size >= 3 {
        let third = size / 3
        let pieces = serve(bytes, chunks: [third, third, size - 2 * third])
        expect(whole == pieces, "fed whole vs in three pieces:\n  whole:  \(whole)\n  pieces: \(pieces)", bytes)
    }
    return 0
}

private func expect(_ condition: Bool, _ message: @autoclosure () -> String, _ bytes: [UInt8]) {
    guard !condition else { return }
    let preview = String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription
    fatalError("FuzzControl property violated: \(message())\n  input (\(bytes.count) bytes, first 300): \(preview)")
}

/// One connection: the input arrives in `chunks`, then the peer closes. Returns what happened, in order.
private func serve(_ bytes: [UInt8], chunks: [Int]) -> [String] {
    let channel = EmbeddedChannel()
    var log: [String] = []
    do {
        // As in ControlServer: the accepted connection is already active when the pipeline is set up.
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/run/slothd/control.sock")).wait()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
    } catch {
        fatalError("pipeline setup failed: \(error)")
    }
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    var inRequest = false
    var done = false

    /// An error ends the connection, as the first error from the inbound stream does in the daemon.
    func note(_ error: Error) {
        log.append("error \(error)")
        done = true
    }

    func drain() {
        while !done {
            let part: HTTPServerRequestPart?
            do { part = try channel.readInbound(as: HTTPServerRequestPart.self) } catch { note(error); return }
            guard let part else { return }
            switch part {
            case .head(let requestHead):
                expect(!inRequest, "a second head inside a request", bytes)
                (head, body, inRequest) = (requestHead, [], true)
                let fields = requestHead.headers.map { "\($0.name): \($0.value)" }
                log.append("head \(requestHead.method.rawValue) \(requestHead.uri.debugDescription) \(requestHead.version) \(fields)")
            case .body(let chunk):
                expect(inRequest, "a body part outside a request", bytes)
                body += Array(buffer: chunk)
            case .end(let trailers):
                expect(inRequest, "an end outside a request", bytes)
                inRequest = false
                guard let requestHead = head else { continue }
                log.append("end body=\(body.count) trailers=\(trailers.map { $0.map { "\($0.name): \($0.value)" } } ?? [])")
                log.append(route(requestHead, body: body, bytes))
                respond(keepAlive: requestHead.isKeepAlive)
                if !requestHead.isKeepAlive {
                    log.append("close (not keep-alive)")
                    channel.close(promise: nil)
                    done = true
                }
            }
        }
    }

    func respond(keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "2")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        do {
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
            try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "{}"))))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        } catch {
            note(error)
        }
        discardOutbound()
    }

    func discardOutbound() {
        while (try? channel.readOutbound(as: IOData.self)) ?? nil != nil {}
    }

    var offset = 0
    for count in chunks where !done {
        guard channel.isActive else { log.append("closed by the pipeline"); break }
        var buffer = channel.allocator.buffer(capacity: count)
        buffer.writeBytes(bytes[offset..<offset + count])
        offset += count
        // As in ControlServer.serve, the parts decoded before an error are still served, then the error
        // ends the connection (NIOAsyncChannel's inbound stream throws it after those parts).
        var caught: Error?
        do { try channel.writeInbound(buffer) } catch { caught = error }
        drain()
        discardOutbound()
        if let caught { note(caught); done = true }
    }
    if !done && channel.isActive {
        // The peer hangs up: the decoder sees EOF and may deliver a last part or an error.
        channel.close(promise: nil)
        var caught: Error?
        do { try channel.throwIfErrorCaught() } catch { caught = error }
        drain()
        if let caught { note(caught) }
    }
    _ = try? channel.finish(acceptAlreadyClosed: true)
    return log
}

/// What ControlServer.serve and ControlRouter.route do with a complete request, up to choosing a handler.
private func route(_ head: HTTPRequestHead, body: [UInt8], _ bytes: [UInt8]) -> String {
    let request = ControlRequest(head, body: body, peer: nil)
    for segment in request.path {
        expect(!segment.isEmpty, "path segment \(segment.debugDescription) from URI \(head.uri.debugDescription)", bytes)
    }
    let endpoint = ControlEndpoint(request.path)
    if endpoint != nil {
        expect((1...3).contains(request.path.count), "endpoint \(endpoint!) for \(request.path.count) segments", bytes)
    }
    let query = request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    return "route \(request.method) path=\(request.path) query=\(query) endpoint=\(endpoint.map { "\($0)" } ?? "none (404)")"
}

import CCurl

/// A minimal blocking HTTP client over libcurl (the only Swift file that imports CCurl).
/// It speaks TCP or, with `unixSocket`, HTTP over a Unix socket: how `sloth` reaches slothd.
public struct HTTPClient: Sendable {
    public struct Response: Sendable, Equatable {
        public let status: Int
        public let body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case transport(url: String, message: String)
        public var description: String {
            switch self {
            case .transport(let url, let message): "\(url): \(message)"
            }
        }
    }

    public var unixSocket: String?
    public var timeoutSeconds: Int

    public init(unixSocket: String? = nil, timeoutSeconds: Int = 30) {
        self.unixSocket = unixSocket
        self.timeoutSeconds = timeoutSeconds
    }

    /// libcurl's global state, initialised once before the first handle.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    public func get(_ url: String) throws(Error) -> Response {
        guard Self.globalInit == CURLE_OK, let handle = curl_easy_init() else {
            throw .transport(url: url, message: "cannot initialise libcurl")
        }
        defer { curl_easy_cleanup(handle) }
        let sink = BodySink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        _ = sloth_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = sloth_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = sloth_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
        _ = sloth_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION, Self.write)
        _ = sloth_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        if let unixSocket { _ = sloth_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, unixSocket) }
        let code = withExtendedLifetime(sink) { curl_easy_perform(handle) }
        guard code == CURLE_OK else {
            throw .transport(url: url, message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        _ = sloth_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, body: sink.bytes)
    }

    private final class BodySink {
        var bytes: [UInt8] = []
    }

    private static let write: sloth_curl_write_fn = { data, size, count, context in
        guard let data, let context else { return 0 }
        let sink = Unmanaged<BodySink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
        return length
    }
}

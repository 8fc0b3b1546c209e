import CCurl
import Foundation
import Synchronization

/// A minimal blocking HTTP client over libcurl (the only Swift file that imports CCurl), and SMTP for `notify.email`.
/// It speaks TCP or, with `unixSocket`, HTTP over a Unix socket: how `sloth` reaches slothd.
public struct HTTPClient: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [String: String]
        public var body: [UInt8]?
        public var followRedirects: Bool

        public init(method: String = "GET", url: String, headers: [String: String] = [:], body: [UInt8]? = nil,
                    followRedirects: Bool = true) {
            (self.method, self.url, self.headers, self.body, self.followRedirects) = (method, url, headers, body, followRedirects)
        }
    }

    public struct Response: Sendable, Equatable {
        public let status: Int
        public let headers: [String: String]
        public let body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case transport(url: String, message: String, timedOut: Bool)
        public var description: String {
            switch self {
            case .transport(let url, let message, _): "\(url): \(message)"
            }
        }
    }

    public var unixSocket: String?
    public var timeoutMillis: Int
    /// How long connecting may take (a daemon whose accept queue is full never answers the connect).
    public var connectTimeoutMillis = 5_000
    /// Idle handles keep their connection open, so the next request to the same peer skips the connect
    /// (copies of the client share them).
    private let idleHandles = IdleHandles()

    private final class IdleHandles: Sendable {
        /// A libcurl handle is used by one request at a time; the mutex hands it from one to the next.
        struct Handle: @unchecked Sendable { let pointer: UnsafeMutableRawPointer }
        let handles = Mutex<[Handle]>([])
        static let kept = 8

        func take() -> UnsafeMutableRawPointer? {
            if let handle = handles.withLock({ $0.popLast() }) {
                sloth_curl_easy_reset(handle.pointer)
                return handle.pointer
            }
            return sloth_curl_easy_init()
        }

        func give(_ pointer: UnsafeMutableRawPointer) {
            let handle = Handle(pointer: pointer)
            let kept = handles.withLock { idle in
                guard idle.count < Self.kept else { return false }
                idle.append(handle)
                return true
            }
            if !kept { sloth_curl_easy_cleanup(pointer) }
        }

        deinit { handles.withLock { $0.forEach { sloth_curl_easy_cleanup($0.pointer) } } }
    }

    public init(unixSocket: String? = nil, timeoutSeconds: Int = 30) {
        self.unixSocket = unixSocket
        self.timeoutMillis = timeoutSeconds * 1000
    }


    public func get(_ url: String) throws(Error) -> Response {
        try send(Request(url: url))
    }

    public func send(_ request: Request) throws(Error) -> Response {
        if let problem = sloth_curl_load_problem() { throw .transport(url: request.url, message: String(cString: problem), timedOut: false) }
        guard let handle = idleHandles.take() else { throw .transport(url: request.url, message: "cannot make a libcurl handle", timedOut: false) }
        defer { idleHandles.give(handle) }
        let sink = ResponseSink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { sloth_curl_slist_free_all(headerList) }
        for (name, value) in request.headers { headerList = sloth_curl_slist_append(headerList, "\(name): \(value)") }
        _ = sloth_curl_setopt_string(handle, CURLOPT_URL, request.url)
        _ = sloth_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        if request.method == "HEAD" { _ = sloth_curl_setopt_long(handle, CURLOPT_NOBODY, 1) }
        _ = sloth_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = sloth_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMillis)
        _ = sloth_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMillis)
        _ = sloth_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        _ = sloth_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        _ = sloth_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION, Self.writeBody)
        _ = sloth_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = sloth_curl_setopt_write(handle, CURLOPT_HEADERFUNCTION, Self.writeHeader)
        _ = sloth_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        if let unixSocket { _ = sloth_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, unixSocket) }
        let code: CURLcode = withExtendedLifetime(sink) {
            guard let body = request.body else { return sloth_curl_easy_perform(handle) }
            return body.withUnsafeBufferPointer { buffer in
                _ = sloth_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, buffer.count)
                _ = sloth_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                return sloth_curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else {
            throw .transport(url: request.url, message: String(cString: sloth_curl_easy_strerror(code)),
                             timedOut: code == CURLE_OPERATION_TIMEDOUT)
        }
        var status = 0
        _ = sloth_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, headers: sink.headers, body: sink.body)
    }

    /// A message for an SMTP server (`smtp://host:port`, or `smtps://` for TLS from the start).
    public struct Mail: Sendable {
        public var url: String
        public var from: String
        public var recipients: [String]
        /// The whole RFC 5322 message: headers, a blank line, the body.
        public var message: [UInt8]
        public var username: String?
        public var password: String?

        public init(url: String, from: String, recipients: [String], message: [UInt8], username: String? = nil, password: String? = nil) {
            (self.url, self.from, self.recipients, self.message) = (url, from, recipients, message)
            (self.username, self.password) = (username, password)
        }
    }

    /// Sends `mail`, upgrading to TLS with STARTTLS when the server offers it.
    public func sendMail(_ mail: Mail) throws(Error) {
        if let problem = sloth_curl_load_problem() { throw .transport(url: mail.url, message: String(cString: problem), timedOut: false) }
        guard let handle = sloth_curl_easy_init() else { throw .transport(url: mail.url, message: "cannot make a libcurl handle", timedOut: false) }
        defer { sloth_curl_easy_cleanup(handle) }
        let source = MailSource(bytes: mail.message)
        var recipientList: UnsafeMutablePointer<curl_slist>?
        defer { sloth_curl_slist_free_all(recipientList) }
        for recipient in mail.recipients { recipientList = sloth_curl_slist_append(recipientList, "<\(recipient)>") }
        _ = sloth_curl_setopt_string(handle, CURLOPT_URL, mail.url)
        _ = sloth_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(mail.from)>")
        _ = sloth_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipientList)
        _ = sloth_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
        if let username = mail.username { _ = sloth_curl_setopt_string(handle, CURLOPT_USERNAME, username) }
        if let password = mail.password { _ = sloth_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        _ = sloth_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = sloth_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMillis)
        _ = sloth_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMillis)
        _ = sloth_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        _ = sloth_curl_setopt_write(handle, CURLOPT_READFUNCTION, Self.readMail)
        _ = sloth_curl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque())
        let code = withExtendedLifetime(source) { sloth_curl_easy_perform(handle) }
        guard code == CURLE_OK else {
            throw .transport(url: mail.url, message: String(cString: sloth_curl_easy_strerror(code)), timedOut: code == CURLE_OPERATION_TIMEDOUT)
        }
    }

    private final class MailSource {
        let bytes: [UInt8]
        var offset = 0
        init(bytes: [UInt8]) { self.bytes = bytes }
    }

    private static let readMail: sloth_curl_write_fn = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let source = Unmanaged<MailSource>.fromOpaque(context).takeUnretainedValue()
        let length = min(size * count, source.bytes.count - source.offset)
        guard length > 0 else { return 0 }
        source.bytes.withUnsafeBufferPointer { all in
            buffer.withMemoryRebound(to: UInt8.self, capacity: length) { $0.update(from: all.baseAddress! + source.offset, count: length) }
        }
        source.offset += length
        return length
    }

    private final class ResponseSink {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
    }

    private static let writeBody: sloth_curl_write_fn = { data, size, count, context in
        guard let data, let context else { return 0 }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
        return length
    }

    /// One header line per call; a new status line (after a redirect) starts the set afresh.
    private static let writeHeader: sloth_curl_write_fn = { data, size, count, context in
        guard let data, let context else { return 0 }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            sink.headers = [:]
        } else if let colon = line.firstIndex(of: ":") {
            sink.headers[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return length
    }
}

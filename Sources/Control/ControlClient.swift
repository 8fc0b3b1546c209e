import Foundation

/// The CLI's side of the control socket: JSON requests, typed answers, errors an operator can act on.
public struct ControlClient: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case unreachable(socket: String)
        /// The socket's mode (or its directory's) keeps this user out; `group` is the group that may connect.
        case permissionDenied(socket: String, group: String?)
        case timedOut(socket: String, seconds: Int)
        /// The daemon refused the request: 4xx is the caller's input, 5xx the daemon's trouble.
        case refused(status: Int, code: String, message: String)
        case malformedAnswer(String)

        public var description: String {
            switch self {
            case .unreachable(let socket): "cannot reach slothd at \(socket): is it running? (systemctl status slothd)"
            case .permissionDenied(let socket, let group):
                "permission denied on \(socket) (root, the daemon's user or \(group.map { "group \($0)" } ?? "its group") may connect)"
            case .timedOut(let socket, let seconds): "slothd at \(socket) did not answer within \(seconds) s (is it overloaded or stuck? journalctl -u slothd)"
            case .refused(_, _, let message): message
            case .malformedAnswer(let detail): "slothd answered something unexpected: \(detail)"
            }
        }
    }

    public let socket: String
    private let http: HTTPClient

    public init(socket: String, timeoutSeconds: Int = 60) {
        self.socket = socket
        http = HTTPClient(unixSocket: socket, timeoutSeconds: timeoutSeconds)
    }

    public func get<Answer: Decodable>(_ path: String, as: Answer.Type = Answer.self) throws(Error) -> Answer {
        try send("GET", path, body: nil)
    }

    public func post<Answer: Decodable>(_ path: String, _ body: some Encodable, as: Answer.Type = Answer.self) throws(Error) -> Answer {
        try send("POST", path, body: try? JSONEncoder().encode(body))
    }

    public func put<Answer: Decodable>(_ path: String, _ body: some Encodable, as: Answer.Type = Answer.self) throws(Error) -> Answer {
        try send("PUT", path, body: try? JSONEncoder().encode(body))
    }

    public func delete(_ path: String) throws(Error) {
        let _: Empty = try send("DELETE", path, body: nil)
    }

    /// A DELETE whose answer says what it changed.
    public func delete<Answer: Decodable>(_ path: String, as: Answer.Type) throws(Error) -> Answer {
        try send("DELETE", path, body: nil)
    }

    public struct Empty: Codable, Sendable {
        public init() {}
    }

    /// A connect fails alike to curl whether nothing listens or the socket's mode keeps us out: access(2)
    /// tells them apart. The group named is the socket's, or its directory's when that is what keeps us out.
    static func accessDenied(_ socket: String) -> Error? {
        guard access(socket, W_OK) != 0, errno == EACCES else { return nil }
        let directory = (socket as NSString).deletingLastPathComponent
        var info = stat()
        guard stat(socket, &info) == 0 || stat(directory.isEmpty ? "." : directory, &info) == 0 else {
            return .permissionDenied(socket: socket, group: nil)
        }
        return .permissionDenied(socket: socket, group: getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) })
    }

    private func send<Answer: Decodable>(_ method: String, _ path: String, body: Data?) throws(Error) -> Answer {
        let response: HTTPClient.Response
        do {
            response = try http.send(.init(method: method, url: "http://slothd/v1\(path)", headers: ["Content-Type": "application/json"],
                                           body: body.map(Array.init)))
        } catch .transport(_, _, timedOut: true) {
            throw .timedOut(socket: socket, seconds: http.timeoutMillis / 1000)
        } catch {
            throw Self.accessDenied(socket) ?? .unreachable(socket: socket)
        }
        let data = Data(response.body)
        guard (200..<300).contains(response.status) else {
            let failure = try? JSONDecoder().decode(ControlAPI.Failure.self, from: data)
            throw .refused(status: response.status, code: failure?.error.code ?? "http_\(response.status)",
                           message: failure?.error.message ?? "slothd answered HTTP \(response.status)")
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: data.isEmpty ? Data("{}".utf8) : data)
        } catch {
            throw .malformedAnswer("\(error)")
        }
    }
}

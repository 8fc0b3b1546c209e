/// Refused registrations per client host, so a client that keeps presenting bad tokens cannot fill
/// the events table: after `limit` refusals in a minute, that host is refused before its token is
/// checked (no event written) until its minute is over.
struct RefusalLimiter: Sendable {
    static let limit = 20
    static let windowMillis: Int64 = 60_000

    private struct Window { var start: Int64; var refused: Int }
    private var windows: [String: Window] = [:]

    mutating func record(_ host: String, at now: Int64) {
        if windows.count > 10_000 { windows = windows.filter { now - $0.value.start < Self.windowMillis } }
        var window = windows[host].flatMap { now - $0.start < Self.windowMillis ? $0 : nil } ?? Window(start: now, refused: 0)
        window.refused += 1
        windows[host] = window
    }

    /// Whether `host` is over its limit now (checked before the token costs a database write).
    func isLimited(_ host: String, at now: Int64) -> Bool {
        guard let window = windows[host], now - window.start < Self.windowMillis else { return false }
        return window.refused >= Self.limit
    }

    /// `127.0.0.1:51234` → `127.0.0.1`; `[::1]:5` → `[::1]`.
    static func host(of address: String) -> String {
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon])
    }
}

/// Why the master refused an agent's stream: said to the agent, and in the `agent.auth_failed` event.
enum AgentRefusal: Error, CustomStringConvertible {
    case token(String)
    case invalidName(String)
    case storage(String)
    case tooMany
    var description: String {
        switch self {
        case .tooMany: "refused: too many refused attempts from this address in the last minute; try again later"
        case .token(let reason): "refused: \(reason)"
        case .invalidName(let name): "refused: \"\(name)\" is not a valid agent name (letters, digits, . _ -)"
        case .storage(let message): "the master cannot record the agent: \(message)"
        }
    }
}

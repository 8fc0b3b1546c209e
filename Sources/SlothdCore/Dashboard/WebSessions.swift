import Foundation
import Synchronization

/// The dashboard's logged-in sessions (kept in memory: a restart logs everyone out) and the login
/// limit. A session id and its CSRF token are 256 random bits each; a session ends after `lifetime`
/// without a request, or when it logs out.
public final class WebSessions: Sendable {
    struct Session: Sendable, Equatable {
        var user: String
        var csrf: String
        var lastSeen: ContinuousClock.Instant
    }

    private struct State {
        var sessions: [String: Session] = [:]
        /// Failed logins by peer address, and of all peers, in the last `failureWindow`.
        var failures: [String: [ContinuousClock.Instant]] = [:]
    }

    static let lifetime: Duration = .seconds(12 * 3600)
    static let maxSessions = 10_000
    static let failureWindow: Duration = .seconds(60)
    /// Failed logins a peer may make per minute, and all peers together.
    static let (failuresPerPeer, failuresInAll) = (5, 50)
    private static let everyone = ""

    private let state = Mutex(State())

    public init() {}

    static func randomToken() -> String {
        var random = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &random)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }

    /// A new session for `user`: its id (the cookie) and CSRF token. The oldest session goes when full.
    func open(user: String) -> (id: String, session: Session) {
        let (id, session) = (Self.randomToken(), Session(user: user, csrf: Self.randomToken(), lastSeen: .now))
        state.withLock { state in
            if state.sessions.count >= Self.maxSessions, let oldest = state.sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
                state.sessions[oldest.key] = nil
            }
            state.sessions[id] = session
        }
        return (id, session)
    }

    /// The live session with this id, its clock restarted.
    func session(_ id: String) -> Session? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard var session = state.sessions[id] else { return nil }
            guard now - session.lastSeen < Self.lifetime else {
                state.sessions[id] = nil
                return nil
            }
            session.lastSeen = now
            state.sessions[id] = session
            return session
        }
    }

    func close(_ id: String) { _ = state.withLock { $0.sessions.removeValue(forKey: id) } }

    /// Whether a login from `peer` may be tried now (false after too many recent failures).
    func mayTryLogin(from peer: String) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            for key in [peer, Self.everyone] { state.failures[key]?.removeAll { now - $0 >= Self.failureWindow } }
            return (state.failures[peer]?.count ?? 0) < Self.failuresPerPeer
                && (state.failures[Self.everyone]?.count ?? 0) < Self.failuresInAll
        }
    }

    func loginFailed(from peer: String) {
        let now = ContinuousClock.now
        state.withLock { state in
            // Bounded: past the limit nothing more is tried, so nothing more is noted.
            if state.failures.count > Self.maxSessions { state.failures = [:] }
            state.failures[peer, default: []].append(now)
            state.failures[Self.everyone, default: []].append(now)
        }
    }
}

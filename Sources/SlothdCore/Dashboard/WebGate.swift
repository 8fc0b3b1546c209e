import Catalog
import Foundation

/// The door of the dashboard's TCP listener (SPEC section 11). Pages need a session (else the login
/// page); `/v1` needs a session or `Authorization: Bearer` with a login token; every change made with
/// a session carries its CSRF token (a form field, or the `X-CSRF-Token` header). What only the socket
/// may see — secret values, new agent tokens — is refused here.
public struct WebGate: Sendable {
    let sessions: WebSessions
    /// Cookies get `Secure` when the listener speaks TLS.
    let secureCookies: Bool
    let dashboard = Dashboard()

    static let cookieName = "slothd_session"

    public init(sessions: WebSessions, secureCookies: Bool) { (self.sessions, self.secureCookies) = (sessions, secureCookies) }

    func respond(_ request: ControlRequest, router: ControlRouter) async -> ControlResponse {
        guard request.path.first == "unversioned" else { return await api(request, router: router) }
        let page = Array(request.path.dropFirst())
        switch (request.method, page.first) {
        case ("GET", "assets"): return DashboardAssets.response(page.dropFirst().first ?? "")
        case ("GET", "login"): return dashboard.login(message: nil)
        case ("POST", "login"): return logIn(request, router: router)
        case ("GET", "metrics"):
            guard user(of: request, router: router) != nil else { return .failure(401, "unauthorized", "log in or send a login token") }
            return await router.respond(request)
        default: break
        }
        guard let (id, session) = cookieSession(request) else {
            guard request.method == "GET" else { return .failure(403, "forbidden", "log in first") }
            return .redirect(to: "/login")
        }
        var authenticated = request
        authenticated.user = session.user
        if request.method == "GET" { return await dashboard.page(authenticated, page: page, csrf: session.csrf, router: router) }
        let form = FormBody(request.body)
        guard request.method == "POST", form["csrf"] == session.csrf else {
            return dashboard.problem(403, "This change did not carry the page's CSRF token; reload the page and try again.", user: session.user)
        }
        if page == ["logout"] {
            sessions.close(id)
            return .redirect(to: "/login", cookie: "\(Self.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
        }
        return await dashboard.act(authenticated, page: page, form: form, router: router)
    }

    /// `/v1` over TCP: the same routes as the socket, for a logged-in user.
    private func api(_ request: ControlRequest, router: ControlRouter) async -> ControlResponse {
        var authenticated = request
        if let (_, session) = cookieSession(request) {
            let reading = request.method == "GET" || request.method == "HEAD"
            guard reading || request.headers["x-csrf-token"] == session.csrf else {
                return .failure(403, "csrf", "a change made with a dashboard session needs its CSRF token in X-CSRF-Token")
            }
            authenticated.user = session.user
        } else if let user = bearerUser(request, router: router) {
            authenticated.user = user
        } else {
            return .failure(401, "unauthorized", "log in to the dashboard or send Authorization: Bearer with a login token (sloth ui --token)")
        }
        if let refusal = Self.socketOnly(request) { return .failure(403, "socket_only", refusal) }
        return await router.respond(authenticated)
    }

    /// Answers that hold secrets stay on the control socket.
    static func socketOnly(_ request: ControlRequest) -> String? {
        switch (request.method, ControlEndpoint(request.path)) {
        case ("GET", .secret): "secret values are served only on the control socket (sloth secrets get)"
        case ("POST", .agentTokens): "agent tokens are created only on the control socket (sloth agent token create)"
        case ("POST", .secretsRekey): "the secrets key is rotated only on the control socket (sloth secrets rekey)"
        case (_, .loginTokens), (_, .loginToken): "login tokens are managed only on the control socket (sloth ui --token)"
        default: nil
        }
    }

    private func logIn(_ request: ControlRequest, router: ControlRouter) -> ControlResponse {
        let peer = request.remote ?? "unknown"
        guard sessions.mayTryLogin(from: peer) else {
            var page = dashboard.login(message: "Too many failed logins; wait a minute and try again.")
            page.status = 429
            return page
        }
        let token = FormBody(request.body)["token"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !token.isEmpty, let user = try? LoginTokenStore(database: router.database).user(presenting: token) else {
            sessions.loginFailed(from: peer)
            router.log.error("dashboard login refused from \(peer)")
            var page = dashboard.login(message: "That token is not a valid login token (sloth ui --token makes one).")
            page.status = 401
            return page
        }
        let (id, _) = sessions.open(user: user)
        try? router.audit(request, "dashboard.login", user)
        let secure = secureCookies ? "; Secure" : ""
        return .redirect(to: "/", cookie: "\(Self.cookieName)=\(id); Path=/; HttpOnly; SameSite=Strict\(secure)")
    }

    private func cookieSession(_ request: ControlRequest) -> (String, WebSessions.Session)? {
        guard let id = Self.cookie(Self.cookieName, in: request.headers["cookie"]), let session = sessions.session(id) else { return nil }
        return (id, session)
    }

    private func bearerUser(_ request: ControlRequest, router: ControlRouter) -> String? {
        guard let header = request.headers["authorization"], header.hasPrefix("Bearer ") else { return nil }
        return try? LoginTokenStore(database: router.database).user(presenting: String(header.dropFirst(7)))
    }

    private func user(of request: ControlRequest, router: ControlRouter) -> String? {
        cookieSession(request)?.1.user ?? bearerUser(request, router: router)
    }

    static func cookie(_ name: String, in header: String?) -> String? {
        for pair in (header ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return String(parts[1]) }
        }
        return nil
    }
}

/// An `application/x-www-form-urlencoded` body.
struct FormBody {
    private var fields: [String: String] = [:]

    init(_ body: [UInt8]) {
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if let name = parts.first { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
    }

    subscript(_ name: String) -> String? { fields[name] }
}

extension ControlResponse {
    static func redirect(to location: String, cookie: String? = nil) -> ControlResponse {
        var response = ControlResponse(status: 303, body: [], contentType: "text/plain")
        response.headers = [("Location", location)] + (cookie.map { [("Set-Cookie", $0)] } ?? [])
        return response
    }
}

import Catalog
import Control

/// `/v1/login-tokens`: the dashboard's login tokens (`sloth ui --token`), on the control socket only.
extension ControlRouter {
    func createLoginToken(_ request: ControlRequest) throws -> ControlResponse {
        let body = try decode(ControlAPI.CreateLoginToken.self, request)
        guard Self.validName(body.user) else { throw BadRequest(message: "invalid user name \"\(body.user)\": use letters, digits, . _ -") }
        let (token, secret) = try LoginTokenStore(database: database).create(user: body.user, requestedBy: request.peerUID)
        var answer = wire(token)
        answer.token = secret
        return .json(answer, status: 201)
    }

    func revokeLoginToken(_ id: String, _ request: ControlRequest) throws -> ControlResponse {
        guard let number = Int64(id) else { throw BadRequest(message: "invalid login token id \"\(id)\"") }
        do {
            return .json(wire(try LoginTokenStore(database: database).revoke(number, requestedBy: request.peerUID)))
        } catch let failure as LoginTokenStore.Failure {
            throw BadRequest(status: 404, code: "not_found", message: failure.description)
        }
    }

    func wire(_ token: LoginTokenStore.Token) -> ControlAPI.LoginToken {
        var wired = ControlAPI.LoginToken(id: token.id, user: token.user, created_at: time(token.createdAt))
        (wired.revoked_at, wired.last_used_at) = (token.revokedAt.map(time), token.lastUsedAt.map(time))
        return wired
    }
}

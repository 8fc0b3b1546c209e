import Catalog
import Control
import Foundation

/// The dashboard's pages (server-rendered, readable with JavaScript off) and its actions, built on
/// the same router functions the `/v1` API answers with, so a page shows what the CLI shows.
struct Dashboard: Sendable {
    let plans = PlanCache()

    func login(message: String?) -> ControlResponse {
        struct View { var message: String? }
        return DashboardViews.page("Log in", body: DashboardViews.render("login", View(message: message)), user: nil, csrf: nil, section: nil)
    }

    func problem(_ status: Int, _ message: String, user: String?) -> ControlResponse {
        struct View { var message: String }
        return DashboardViews.page(status == 404 ? "Not found" : "Refused", body: DashboardViews.render("problem", View(message: message)),
                                   user: user, csrf: nil, section: nil, status: status)
    }

    func page(_ request: ControlRequest, page: [String], csrf: String, router: ControlRouter) async -> ControlResponse {
        let context = PageContext(request: request, csrf: csrf, router: router)
        do {
            switch page.count {
            case 0: return try await overview(context)
            case 1 where page[0] == "schedules": return try await schedules(context)
            case 2 where page[0] == "schedules": return try await schedule(page[1], context)
            case 1 where page[0] == "runs": return try runList(context)
            case 2 where page[0] == "runs": return try await run(page[1], context)
            case 3 where page[0] == "runs" && page[2] == "live": return try LiveLog.stream(page[1], request: request, router: router)
            case 1 where page[0] == "workflows": return try workflows(context)
            case 2 where page[0] == "workflows": return try workflow(page[1], context)
            case 1 where page[0] == "agents": return try agents(context)
            case 1 where page[0] == "stacks": return try stacks(context)
            case 2 where page[0] == "stacks": return try stack(page[1], context)
            case 1 where page[0] == "events": return try events(context)
            case 2 where page[0] == "events": return try event(page[1], context)
            default: return problem(404, "No page at /\(page.joined(separator: "/")).", user: request.user)
            }
        } catch {
            let failure = ControlResponse.failure(for: error)
            let message = (try? JSONDecoder().decode(ControlAPI.Failure.self, from: Data(failure.body)))?.error.message ?? "\(error)"
            return problem(failure.status, message, user: request.user)
        }
    }

    /// A form's change, made through the `/v1` route that does it (its checks and its audit row), then
    /// back to the page it came from.
    func act(_ request: ControlRequest, page: [String], form: FormBody, router: ControlRouter) async -> ControlResponse {
        let note = DashboardViews.nonEmpty(form["note"]).map { "{\"note\":\(JSONValue.string($0).json)}" }
        let target: (path: [String], back: String)? = switch page.count {
        case 3 where page[0] == "schedules" && ["pause", "resume", "trigger"].contains(page[2]):
            (["schedules", page[1], ["pause": "disable", "resume": "enable"][page[2]] ?? page[2]], "/schedules")
        case 2 where page[0] == "scheduler" && ["pause", "resume"].contains(page[1]):
            (["scheduler", page[1] == "pause" ? "disable" : "enable"], "/")
        case 3 where page[0] == "runs" && page[2] == "cancel": (["runs", page[1], "cancel"], "/runs/\(page[1])")
        default: nil
        }
        guard let target else { return problem(404, "No action at /\(page.joined(separator: "/")).", user: request.user) }
        var change = request
        (change.path, change.query, change.headers) = (target.path, [:], [:])
        change.body = target.path.last == "trigger" || target.path.last == "cancel" ? [] : Array((note ?? "").utf8)
        let answer = await router.respond(change)
        guard answer.status < 400 else {
            let message = (try? JSONDecoder().decode(ControlAPI.Failure.self, from: Data(answer.body)))?.error.message ?? "refused"
            return problem(answer.status, message, user: request.user)
        }
        if target.path.last == "trigger", let run = try? JSONDecoder().decode(ControlAPI.Run.self, from: Data(answer.body)) {
            return .redirect(to: "/runs/\(run.id)")
        }
        return .redirect(to: Self.safeBack(form["back"]) ?? target.back)
    }

    /// Only a path on this site: never `//host` or a scheme, so a form cannot send the browser away.
    static func safeBack(_ back: String?) -> String? {
        guard let back, back.hasPrefix("/"), !back.hasPrefix("//"), !back.contains("\\"), !back.contains("\r"), !back.contains("\n") else {
            return nil
        }
        return back
    }
}

/// What every page builder needs.
struct PageContext {
    var request: ControlRequest
    var csrf: String
    var router: ControlRouter
    var user: String? { request.user }
    var nowMillis: Int64 { router.clock.nowMillis() }

    func page(_ title: String, _ template: String, _ view: Any, section: String?) -> ControlResponse {
        DashboardViews.page(title, body: DashboardViews.render(template, view), user: user, csrf: csrf, section: section)
    }
}

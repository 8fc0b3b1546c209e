import Catalog
import Control
import Foundation
import Scheduler

/// The values the templates show: states as a symbol and a word as well as a colour (readable by
/// colour-blind users), times as `<time>` the script turns into the browser's zone.
enum DashboardViews {
    struct Badge {
        var cls: String
        var symbol: String
        var text: String
    }

    struct Stamp {
        /// RFC 3339, in the zone the daemon or the schedule wrote it.
        var iso: String
        var text: String
    }

    struct NavItem {
        var href: String
        var label: String
        var current: Bool
    }

    struct Frame {
        var title: String
        var user: String?
        var csrf: String?
        var nav: [NavItem]
        var body: String
    }

    static let sections = [("/", "Overview"), ("/schedules", "Schedules"), ("/runs", "Runs"), ("/workflows", "Workflows"),
                           ("/agents", "Agents"), ("/stacks", "Stacks"), ("/events", "Events")]

    /// Every state word slothd uses, with its shape.
    static func badge(_ state: String) -> Badge {
        let (cls, symbol): (String, String) = switch state {
        case "succeeded", "success", "on", "active", "connected": ("good", "✓")
        case "failed", "timed_out", "interrupted", "lost": ("bad", "✗")
        case "running": ("busy", "▶")
        case "queued", "pending": ("wait", "◷")
        case "cancelled", "skipped": ("gone", "⊘")
        case "paused", "inactive", "disconnected", "draining": ("off", "‖")
        default: ("gone", "·")
        }
        return Badge(cls: cls, symbol: symbol, text: state.replacingOccurrences(of: "_", with: " "))
    }

    static func stamp(_ rfc3339: String?) -> Stamp? {
        rfc3339.map { Stamp(iso: $0, text: HumanText.time($0)) }
    }

    /// The whole page around a body rendered by its template.
    static func page(_ title: String, body: String, user: String?, csrf: String?, section: String?, status: Int = 200) -> ControlResponse {
        let nav = user == nil ? [] : sections.map { NavItem(href: $0.0, label: $0.1, current: $0.0 == section) }
        let frame = Frame(title: title, user: user, csrf: csrf, nav: nav, body: body)
        let html = DashboardTemplates.render("frame", frame)
        var response = ControlResponse(status: status, body: Array(html.utf8), contentType: "text/html; charset=utf-8")
        response.headers = securityHeaders
        return response
    }

    /// No page may be framed, sniffed, cached by a shared cache, or load anything from elsewhere.
    static let securityHeaders = [
        ("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
        ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
        ("Cache-Control", "no-store"),
    ]

    static func render(_ template: String, _ view: Any) -> String { DashboardTemplates.render(template, view) }

    struct RunRow {
        var id: Int64
        var state: Badge
        var workflow: String
        var schedule: String?
        var stack: String?
        var trigger: String
        var started: Stamp?
        var duration: String?
    }

    static func runRow(_ run: ControlAPI.Run) -> RunRow {
        RunRow(id: run.id, state: badge(run.state.rawValue), workflow: run.workflow, schedule: run.schedule, stack: run.stack,
               trigger: run.trigger.rawValue, started: stamp(run.started_at ?? run.queued_at), duration: duration(run))
    }

    /// Start to end, or to now while it runs.
    static func duration(_ run: ControlAPI.Run, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> String? {
        guard let started = run.started_at.flatMap(RFC3339.millis) else { return nil }
        let ended = run.ended_at.flatMap(RFC3339.millis) ?? now
        return HumanText.duration(millis: ended - started)
    }

    /// `{{#x}}` renders nothing for an empty string.
    static func nonEmpty(_ text: String?) -> String? { text?.isEmpty == false ? text : nil }

    /// A value for a URL's query: everything but unreserved characters percent-encoded.
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

import Control
import Foundation
import Testing
import TestSupport

/// The dashboard in a real headless Chromium against a real slothd: a failed run with a DAG, a run
/// printing a line a second, a schedule, a stack with a secret. Screenshots go to
/// `.build/artifacts/dashboard/` (or `$SLOTH_TEST_ARTIFACTS`).
@Suite("dashboard in a browser", .serialized, .enabled(if: WebDriver.unavailable == nil, "\(WebDriver.unavailable ?? "")"))
struct DashboardBrowserTests {
    static let secretValue = "hunter2-never-shown"
    static let artifacts = ProcessInfo.processInfo.environment["SLOTH_TEST_ARTIFACTS"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/artifacts/dashboard").standardized.path

    struct Site {
        let daemon: DaemonProcess
        let url: String
        let token: String
    }

    static func site() async throws -> Site {
        let port = try LoopbackHTTPServer.closedPort()
        let daemon = try DaemonProcess(extraArguments: ["--http-listen", "127.0.0.1:\(port)", "--shutdown-grace", "0"])
        try #require(daemon.waitUntilReady() != nil, "slothd did not start: \(daemon.log)")
        let files = daemon.directory
        let pipeline = files.appendingPathComponent("pipeline.sloth").path
        try """
        task("build"):command(function() print("compiling"); return true end):build()
        task("test"):depends_on("build"):command(function() print("testing"); return true end):build()
        task("lint"):depends_on("build"):command(function() return true end):build()
        task("deploy"):depends_on({"test", "lint"}):command(function() return false, "host unreachable" end):build()
        """.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let ticker = files.appendingPathComponent("ticker.sloth").path
        try "task('tick'):command(function() for i = 1, 120 do print('tick ' .. i); exec.run('sleep 1') end return true end):build()\n"
            .write(toFile: ticker, atomically: true, encoding: .utf8)
        for arguments in [["workflow", "add", "pipeline", "--file", pipeline], ["workflow", "add", "ticker", "--file", ticker],
                          ["stack", "new", "prod"], ["scheduler", "add", "nightly", "--cron", "0 2 * * *", "--workflow", "pipeline", "--tz", "Europe/Berlin"],
                          ["run", "pipeline"], ["run", "ticker", "--detach"]] {
            _ = try await daemon.sloth(arguments)
        }
        #expect(try await daemon.sloth(["secrets", "set", "db_password", "--stack", "prod"], stdin: secretValue + "\n").status == 0)
        let created = try await daemon.sloth(["ui", "--token", "--user", "alice"])
        try #require(created.status == 0, "\(created.stderr)")
        let lines = created.stdout.split(separator: "\n").map(String.init)
        return Site(daemon: daemon, url: "http://127.0.0.1:\(port)", token: lines.last ?? "")
    }

    static func logIn(_ browser: WebDriver, _ site: Site) async throws {
        try await browser.open(site.url + "/")
        #expect(try await browser.url().hasSuffix("/login"))
        try await browser.type(site.token, into: "input[name=token]")
        try await browser.click("form.login button")
        #expect(try await browser.url() == site.url + "/")
    }

    static func shoot(_ browser: WebDriver, _ name: String) async throws {
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        try await browser.screenshot(to: "\(artifacts)/\(name).png")
    }

    @Test("log in; every page renders, none shows the secret; pausing from the page pauses the schedule; the live log grows; the DAG has its states")
    func pagesAndActions() async throws {
        let site = try await Self.site()
        let browser = try await WebDriver()
        try await Self.logIn(browser, site)
        let overview = try await browser.source()
        #expect(overview.contains("nightly") && overview.contains("host unreachable"), "the overview shows the next fire and the failure")
        try await Self.shoot(browser, "overview")
        for (path, name) in [("/schedules", "schedules"), ("/schedules/nightly", "schedule"), ("/runs", "runs"), ("/runs/1", "run"),
                             ("/workflows", "workflows"), ("/workflows/pipeline", "workflow"), ("/agents", "agents"), ("/stacks", "stacks"),
                             ("/stacks/prod", "stack"), ("/events", "events"), ("/events/1", "event")] {
            try await browser.open(site.url + path)
            let page = try await browser.source()
            #expect(!page.contains(Self.secretValue), "\(path) shows the secret's value")
            #expect(!page.contains("class=\"problem\""), "\(path) is an error page")
            try await Self.shoot(browser, name)
        }
        try await browser.open(site.url + "/stacks/prod")
        #expect(try await browser.source().contains("db_password"), "the stack page names its secret")

        try await browser.open(site.url + "/runs/1")
        let states = try await browser.script("return [...document.querySelectorAll('g.node')].map(n => n.dataset.task + '=' + n.dataset.state).join(' ')") as? String
        #expect(states == "build=success test=success lint=success deploy=failed")
        let buildRow = try await browser.script("""
            return [...document.querySelectorAll('tr')].filter(r => r.cells.length && r.cells[0].textContent.trim() === 'build')
              .map(r => r.textContent).join('')
            """) as? String ?? ""
        #expect(buildRow.contains("success") && !buildRow.contains("host unreachable"), "a succeeded task shows no error: \(buildRow)")

        try await browser.open(site.url + "/schedules")
        try await browser.click("form[action='/schedules/nightly/pause'] button")
        let listed = try await site.daemon.sloth(["scheduler", "list", "-o", "json"])
        #expect(listed.stdout.contains("\"enabled\":false"), "\(listed.stdout)")

        try await browser.open(site.url + "/runs/2")
        // The page's own log element gains a line pushed over the live stream, without a reload.
        let grew = try await browser.asyncScript("""
            const done = arguments[arguments.length - 1], log = document.getElementById('log');
            const before = log.querySelectorAll('.line').length;
            new MutationObserver(() => { if (log.querySelectorAll('.line').length > before) done(true); })
                .observe(log, {childList: true, subtree: true});
            """, timeoutMillis: 15_000) as? Bool
        #expect(grew == true, "the running run's log grew in the page without a reload")
        try await Self.shoot(browser, "run-live")
        await browser.quit()
        site.daemon.signal(SIGTERM)
        _ = await site.daemon.exitStatus()
    }

    @Test("a change without the page's CSRF token is refused; pages read with JavaScript disabled")
    func csrfAndNoScript() async throws {
        let site = try await Self.site()
        let browser = try await WebDriver(javascript: false)
        try await Self.logIn(browser, site)
        try await browser.open(site.url + "/runs/1")
        let page = try await browser.source()
        #expect(page.contains("data-task=\"deploy\"") && page.contains("host unreachable"))

        // The session's own cookie, replayed by a forged form and a forged API call without the token.
        let client = HTTPClient()
        let login = try await offThread { Result { try client.send(.init(method: "POST", url: site.url + "/login", body: Array("token=\(site.token)".utf8), followRedirects: false)) } }.get()
        let cookie = (login.headers["set-cookie"] ?? login.headers["Set-Cookie"] ?? "").split(separator: ";").first.map(String.init) ?? ""
        #expect(cookie.hasPrefix("slothd_session="))
        let forged = try await offThread { Result { try client.send(.init(method: "POST", url: site.url + "/schedules/nightly/pause", headers: ["Cookie": cookie],
                                           body: Array("back=/".utf8), followRedirects: false)) } }.get()
        #expect(forged.status == 403)
        let api = try await offThread { Result { try client.send(.init(method: "POST", url: site.url + "/v1/schedules/nightly/disable", headers: ["Cookie": cookie], body: [])) } }.get()
        #expect(api.status == 403)
        let anonymous = try await offThread { Result { try client.send(.init(url: site.url + "/v1/status")) } }.get()
        #expect(anonymous.status == 401)
        let secret = try await offThread { Result { try client.send(.init(url: site.url + "/v1/secrets/db_password?stack=prod", headers: ["Authorization": "Bearer \(site.token)"])) } }.get()
        #expect(secret.status == 403 && !secret.text.contains(Self.secretValue))
        #expect(try await site.daemon.sloth(["scheduler", "list", "-o", "json"]).stdout.contains("\"enabled\":true"))
        await browser.quit()
        site.daemon.signal(SIGTERM)
        _ = await site.daemon.exitStatus()
    }
}

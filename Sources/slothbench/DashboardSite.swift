import ArgumentParser
import Control
import Foundation

/// The dashboard of the daemon under test, logged in with a token made over the control socket, and
/// the same daemon's `/v1` on that socket: one kept-alive client each, so both times are one request.
struct WebSite {
    let base: String
    let socket: String
    let cookie: String
    private let web = HTTPClient()
    private let api: HTTPClient

    init(base: String, socket: String) throws {
        (self.base, self.socket) = (base, socket)
        api = HTTPClient(unixSocket: socket)
        let made: ControlAPI.LoginToken = try ControlClient(socket: socket).post("/login-tokens", ControlAPI.CreateLoginToken(user: "bench"))
        let login = try web.send(.init(method: "POST", url: base + "/login", body: Array("token=\(made.token ?? "")".utf8), followRedirects: false))
        guard let cookie = login.headers.first(where: { $0.key.lowercased() == "set-cookie" })?.value.split(separator: ";").first else {
            throw ValidationError("the dashboard's login answered \(login.status) without a session cookie")
        }
        self.cookie = String(cookie)
    }

    /// p50 and p99 in milliseconds of `requests` GETs of `path`, after ten to warm up; the answer's size.
    func time(_ path: String, requests: Int, web isPage: Bool) throws -> (p50: Double, p99: Double, kib: Double) {
        let request = isPage ? HTTPClient.Request(url: base + path, headers: ["Cookie": cookie])
                             : HTTPClient.Request(url: "http://localhost" + path)
        let client = isPage ? web : api
        var size = 0
        for _ in 0..<10 {
            let answer = try client.send(request)
            guard answer.status == 200 else { throw ValidationError("GET \(path) answered \(answer.status): \(answer.text.prefix(200))") }
            size = answer.body.count
        }
        var millis: [Double] = []
        for _ in 0..<requests {
            let start = ContinuousClock.now
            _ = try client.send(request)
            millis.append(Self.millis(ContinuousClock.now - start))
        }
        millis.sort()
        let round = { (value: Double) in (value * 100).rounded() / 100 }
        return (round(millis[millis.count / 2]), round(millis[min(millis.count - 1, millis.count * 99 / 100)]),
                (Double(size) / 1024 * 10).rounded() / 10)
    }

    static func millis(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

/// Open live-log streams read by a thread each, as browsers would: the daemon's memory and CPU over a
/// window with them open, beside the same window before they opened, a run printing all the while.
enum LiveStreams {
    struct Figure: Codable {
        let streams: Int
        let events_per_stream_min: Int
        let rss_before_kib: Int
        let rss_with_streams_kib: Int
        let rss_growth_kib: Int
        let cpu_percent_without: Double
        let cpu_percent_with_streams: Double
    }

    static func measure(site: WebSite, daemon: Int32, streams: Int, seconds: Int) throws -> Figure {
        let content = "task('tick'):command(function() for i = 1, 100000 do print('tick ' .. i); exec.run('sleep 0.1') end return true end):build()\n"
        let client = ControlClient(socket: site.socket)
        let _: ControlAPI.Workflow = try client.post("/workflows", ControlAPI.AddWorkflow(
            name: "ticker", content: content, file: nil, description: nil, tags: [], active: true))
        let run: ControlAPI.Run = try client.post("/runs", ControlAPI.StartRun(workflow: "ticker", params: [:], tasks: []))
        Thread.sleep(forTimeInterval: 2)
        let before = AgentBench.cpuTicks(daemon), rssBefore = DaemonBench.rssKiB(daemon)
        Thread.sleep(forTimeInterval: Double(seconds))
        let without = AgentBench.cpuTicks(daemon) - before

        let port = UInt16(site.base.split(separator: ":").last.flatMap { Int($0) } ?? 0)
        let readers = try (0..<streams).map { _ in try RawHTTP.Stream(port: port, path: "/runs/\(run.id)/live", cookie: site.cookie) }
        Thread.sleep(forTimeInterval: 2)
        let start = AgentBench.cpuTicks(daemon)
        Thread.sleep(forTimeInterval: Double(seconds))
        let with = AgentBench.cpuTicks(daemon) - start, rssWith = DaemonBench.rssKiB(daemon)
        let events = readers.map(\.events).min() ?? 0
        readers.forEach { $0.close() }
        let _: ControlAPI.Run = try client.post("/runs/\(run.id)/cancel", ControlClient.Empty())
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let percent = { (ticks: Int) in (Double(ticks) / ticksPerSecond / Double(seconds) * 1000).rounded() / 10 }
        return Figure(streams: streams, events_per_stream_min: events, rss_before_kib: rssBefore, rss_with_streams_kib: rssWith,
                      rss_growth_kib: rssWith - rssBefore, cpu_percent_without: percent(without), cpu_percent_with_streams: percent(with))
    }
}

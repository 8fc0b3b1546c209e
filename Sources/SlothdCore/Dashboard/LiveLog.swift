import Catalog
import Control
import Foundation

/// A run's log as server-sent events: each stored line once (its row id is the event id, so a
/// reconnecting browser resumes after `Last-Event-ID`), then `end` when the run ends. The stream
/// waits on the log bell, never polls; a chatty run's lines go out at most four times a second; a
/// comment every 15 s finds a browser that left.
enum LiveLog {
    static let heartbeat: Duration = .seconds(15)
    static let batchEvery: Duration = .milliseconds(250)

    struct Event: Encodable { var time: String; var tag: String?; var level: String; var text: String }

    static func stream(_ id: String, request: ControlRequest, router: ControlRouter) throws -> ControlResponse {
        let found = try router.run(id)
        let start = Int64(request.headers["last-event-id"] ?? request.query["after"] ?? "0") ?? 0
        var response = ControlResponse(status: 200, body: [], contentType: "text/event-stream")
        response.headers = [("Cache-Control", "no-store"), ("X-Accel-Buffering", "no")]
        response.stream = { send in
            var after = start, idle = false
            let encoder = JSONEncoder()
            while true {
                let seen = router.pool.logBell.generation
                // Whether the run has ended is read before its lines, so none stored in between is missed;
                // only when the last read found nothing (a chatty run's turns cost one query).
                let finished = idle ? (try router.runs.run(found.id)?.state.isFinished ?? true) : false
                let lines = try router.runs.logs(run: found.id, after: after)
                if !lines.isEmpty {
                    var text = ""
                    for (rowID, line) in lines {
                        let parts = Dashboard.line(line, router: router)
                        let event = Event(time: parts.at?.iso ?? "", tag: parts.tag, level: parts.level, text: parts.text)
                        text += "id: \(rowID)\ndata: \(String(decoding: try encoder.encode(event), as: UTF8.self))\n\n"
                        after = rowID
                    }
                    try await send(Array(text.utf8))
                    idle = false
                    // A run printing without pause is sent in batches, not a wake-up per line per browser.
                    try await Task.sleep(for: batchEvery)
                    continue
                }
                if finished {
                    try await send(Array("event: end\ndata: {}\n\n".utf8))
                    return
                }
                if !idle {
                    idle = true
                    continue
                }
                await router.pool.logBell.wait(found.id, after: seen, upTo: heartbeat)
                if router.pool.logBell.generation == seen { try await send(Array(": waiting\n\n".utf8)) }
            }
        }
        return response
    }
}

import Catalog
import Control
import Foundation

/// A run's log as server-sent events: each stored line once (its row id is the event id, so a
/// reconnecting browser resumes after `Last-Event-ID`), then `end` when the run ends. The stream
/// waits on the log bell, never polls; a comment every 15 s finds a browser that left.
enum LiveLog {
    static let heartbeat: Duration = .seconds(15)

    struct Event: Encodable { var time: String; var tag: String?; var level: String; var text: String }

    static func stream(_ id: String, request: ControlRequest, router: ControlRouter) throws -> ControlResponse {
        let found = try router.run(id)
        let start = Int64(request.headers["last-event-id"] ?? request.query["after"] ?? "0") ?? 0
        var response = ControlResponse(status: 200, body: [], contentType: "text/event-stream")
        response.headers = [("Cache-Control", "no-store"), ("X-Accel-Buffering", "no")]
        response.stream = { send in
            var after = start
            let encoder = JSONEncoder()
            while true {
                let seen = router.pool.logBell.generation
                let finished = try router.runs.run(found.id)?.state.isFinished ?? true
                let lines = try router.runs.logs(run: found.id, after: after)
                var text = ""
                for (rowID, line) in lines {
                    let parts = Dashboard.line(line, router: router)
                    let event = Event(time: parts.at?.iso ?? "", tag: parts.tag, level: parts.level, text: parts.text)
                    let json = String(decoding: try encoder.encode(event), as: UTF8.self)
                    text += "id: \(rowID)\ndata: \(json)\n\n"
                    after = rowID
                }
                if !text.isEmpty { try await send(Array(text.utf8)) }
                if finished && lines.isEmpty {
                    try await send(Array("event: end\ndata: {}\n\n".utf8))
                    return
                }
                if lines.isEmpty {
                    await router.pool.logBell.wait(found.id, after: seen, upTo: heartbeat)
                    if router.pool.logBell.generation == seen { try await send(Array(": waiting\n\n".utf8)) }
                }
            }
        }
        return response
    }
}

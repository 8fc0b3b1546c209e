import Catalog
import Control
import Foundation
import Scheduler

/// `/v1/events`: the event rows of SPEC section 9 (hooks that act on them come later).
extension ControlRouter {
    var events: EventStore { EventStore(database: database) }

    func listEvents(_ request: ControlRequest) throws -> ControlResponse {
        let limit = Int(request.query["limit"] ?? "50") ?? 50
        return .json(try events.list(type: request.query["type"], limit: max(1, min(limit, 100_000))).map(wire))
    }

    func showEvent(_ id: String) throws -> ControlResponse {
        guard let number = Int64(id) else { throw BadRequest(message: "invalid event id \"\(id)\"") }
        guard let found = try events.get(number) else { throw BadRequest(status: 404, code: "not_found", message: "no event \(number)") }
        return .json(wire(found))
    }

    func cleanupEvents(_ request: ControlRequest) throws -> ControlResponse {
        let body = try decode(ControlAPI.EventsCleanup.self, request)
        let seconds: Int64
        do {
            seconds = try CronDuration.seconds(parsing: body.older_than)
        } catch {
            throw BadRequest(message: "invalid --older-than \"\(body.older_than)\": \(error)")
        }
        let deleted = try events.cleanup(before: clock.nowMillis() - seconds * 1000)
        try audit(request, "events.cleanup", "events", detail: "older than \(body.older_than): \(deleted)")
        return .json(ControlAPI.EventsCleanup(older_than: body.older_than, deleted: deleted))
    }

    private func wire(_ event: EventStore.Event) -> ControlAPI.Event {
        ControlAPI.Event(id: event.id, type: event.type, at: time(event.at), run_id: event.runID, stack: event.stack,
                         data: JSONValue(json: event.dataJSON) ?? .string(event.dataJSON))
    }
}

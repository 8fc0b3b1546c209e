import Catalog
import Control
import Foundation
import Scheduler

/// `/v1/runs/ID/...`: a run as SPEC section 4 spells it, its result document and its log.
extension ControlRouter {
    /// Log lines after `after` (of one task with `task=`); with `wait=MS`, waits up to that long for a
    /// line or the run's end, answering the moment lines are stored.
    func logs(_ id: String, _ request: ControlRequest) async throws -> ControlResponse {
        let after = Int64(request.query["after"] ?? "0") ?? 0
        let task = request.query["task"].flatMap { $0.isEmpty ? nil : $0 }
        let deadline = ContinuousClock.now + .milliseconds(min(Int(request.query["wait"] ?? "0") ?? 0, 30_000))
        while true {
            // Noted before the run's state and lines are read, so a ring after the read is never missed.
            let seen = pool.logBell.generation
            let found = try run(id)
            let lines = try runs.logs(run: found.id, after: after, task: task)
            let page = ControlAPI.LogPage(lines: lines.map { wire($0.line, id: $0.id) }, next: lines.last?.id ?? after,
                                          finished: found.state.isFinished)
            let now = ContinuousClock.now
            if !lines.isEmpty || page.finished || now >= deadline { return .json(page) }
            // A run closed without its worker (a queued cancel) rings too; a second is the bound either way.
            await pool.logBell.wait(found.id, after: seen, upTo: min(deadline - now, .seconds(1)))
        }
    }

    /// The stored result document of a run (what `sloth run -o json` prints), as it was stored.
    func result(_ id: String) throws -> ControlResponse {
        let found = try run(id)
        guard let document = found.resultJSON else {
            throw BadRequest(status: 404, code: "not_found", message: "run \(found.id) has no result (it is \(found.state))")
        }
        return ControlResponse(status: 200, body: Array(document.utf8))
    }

    func wire(_ run: RunStore.Run) throws -> ControlAPI.Run {
        wire(run, tasks: try runs.tasks(run: run.id))
    }

    func wire(_ list: [RunStore.Run]) throws -> [ControlAPI.Run] {
        let tasks = try runs.tasks(runs: list.map(\.id))
        return list.map { wire($0, tasks: tasks[$0.id] ?? []) }
    }

    func wire(_ run: RunStore.Run, tasks: [RunStore.TaskResult]) -> ControlAPI.Run {
        ControlAPI.Run(id: run.id, workflow: run.workflow, workflow_version: run.workflowVersion, declared_version: run.declaredVersion,
                       schedule: run.schedule, stack: run.stack, trigger: run.trigger, state: run.state,
                       nominal_at: run.nominalAt.map { time($0 * 1000) }, queued_at: preciseTime(run.queuedAt),
                       started_at: run.startedAt.map(preciseTime), ended_at: run.endedAt.map(preciseTime), error: run.error,
                       tasks: Dictionary(tasks.map { ($0.name, wire($0)) }) { $1 })
    }

    private func wire(_ task: RunStore.TaskResult) -> ControlAPI.Task {
        ControlAPI.Task(status: task.status, started_at: task.startedAt.map(preciseTime), ended_at: task.endedAt.map(preciseTime),
                        duration_ms: task.startedAt == nil ? nil : task.durationMillis, attempts: task.attempts, error: task.error,
                        exit_code: task.exitCode, agent: task.agent, output: task.outputJSON.flatMap(JSONValue.init(json:)).flatMap { $0 == .object([:]) ? nil : $0 })
    }

    private func wire(_ line: RunStore.LogLine, id: Int64) -> ControlAPI.LogLine {
        ControlAPI.LogLine(id: id, time: preciseTime(line.at), level: line.level, task: line.task, stream: line.stream, text: line.message)
    }

    /// RFC 3339 with milliseconds, for log lines and run and task times.
    func preciseTime(_ millis: Int64) -> String { RFC3339.format(millis: millis, in: zone) }
}

import Catalog
import Control
import Foundation
import Runner
import Synchronization

/// The runs list (keyset-paginated: `before` is the last id of the page shown) and a run's page.
extension Dashboard {
    static let pageSize = 50
    static let shownLogLines = 2000

    func runList(_ context: PageContext) throws -> ControlResponse {
        struct Filter { var workflow: String; var schedule: String; var stack: String; var agent: String }
        struct StateOption { var name: String; var selected: Bool }
        struct View { var filter: Filter; var states: [StateOption]; var runs: [DashboardViews.RunRow]; var older: String? }
        var request = context.request
        request.query = request.query.filter { !$0.value.isEmpty }
        request.query["limit"] = String(Self.pageSize)
        let found = try context.router.wire(context.router.runs.list(context.router.runFilter(request)))
        let query = context.request.query
        var older: String?
        if found.count == Self.pageSize, let last = found.last {
            var components = URLComponents()
            components.queryItems = ["workflow", "schedule", "state", "stack", "agent"].compactMap { key in
                DashboardViews.nonEmpty(query[key]).map { URLQueryItem(name: key, value: $0) }
            } + [URLQueryItem(name: "before", value: String(last.id))]
            older = "/runs" + (components.string ?? "")
        }
        let view = View(filter: Filter(workflow: query["workflow"] ?? "", schedule: query["schedule"] ?? "", stack: query["stack"] ?? "", agent: query["agent"] ?? ""),
                        states: RunState.allCases.map { StateOption(name: $0.rawValue, selected: query["state"] == $0.rawValue) },
                        runs: found.map(DashboardViews.runRow), older: older)
        return context.page("Runs", "runs", view, section: "/runs")
    }

    func run(_ id: String, _ context: PageContext) async throws -> ControlResponse {
        struct Node { var name: String; var cls: String; var symbol: String; var text: String; var duration: String; var x: Int; var y: Int; var tx: Int; var ty: Int; var sy: Int }
        struct Edge { var x1: Int; var y1: Int; var x2: Int; var y2: Int }
        struct Dag { var width: Int; var height: Int; var nodes: [Node]; var edges: [Edge] }
        struct TaskRow { var name: String; var state: DashboardViews.Badge; var duration: String?; var attempts: Int?; var exit: Int?; var agent: String?; var error: String? }
        struct Line { var level: String; var at: DashboardViews.Stamp?; var tag: String?; var text: String }
        struct View {
            var id: Int64; var state: DashboardViews.Badge; var workflow: String; var version: Int?; var trigger: String; var schedule: String?; var stack: String?
            var queued: DashboardViews.Stamp?; var started: DashboardViews.Stamp?; var ended: DashboardViews.Stamp?; var duration: String?; var error: String?
            var cancellable: Bool; var csrf: String; var dag: Dag; var tasks: [TaskRow]; var lines: [Line]; var after: Int64; var live: Bool; var truncated: Bool
        }
        let router = context.router
        let found = try router.run(id)
        let wired = try router.wire(found)
        var lines: [(id: Int64, line: RunStore.LogLine)] = []
        while lines.count < Self.shownLogLines {
            let page = try router.runs.logs(run: found.id, after: lines.last?.id ?? 0)
            if page.isEmpty { break }
            lines += page
        }
        let truncated = lines.count >= Self.shownLogLines
        let plan = await plans.plan(of: found, router: router)
        let names = plan.tasks.isEmpty ? wired.tasks.keys.sorted() : plan.tasks + wired.tasks.keys.filter { !plan.tasks.contains($0) }.sorted()
        let logged = Set(lines.compactMap(\.line.task))
        let states = names.map { name -> (String, String) in
            if let task = wired.tasks[name] { return (task.status.rawValue, task.duration_ms.map { HumanText.duration(millis: $0) } ?? "") }
            if found.state.isFinished { return ("skipped", "") }
            return (logged.contains(name) ? "running" : "pending", "")
        }
        let layout = DagLayout(tasks: names, needs: plan.needs)
        let dag = Dag(width: layout.canvasWidth, height: layout.canvasHeight, nodes: zip(layout.nodes, states).map { node, state in
            let badge = DashboardViews.badge(state.0)
            return Node(name: node.name, cls: badge.cls, symbol: badge.symbol, text: badge.text, duration: state.1, x: node.x, y: node.y,
                        tx: node.x + 10, ty: node.y + 19, sy: node.y + 37)
        }, edges: layout.edges.map { Edge(x1: $0.x1, y1: $0.y1, x2: $0.x2, y2: $0.y2) })
        let tasks = names.compactMap { name in wired.tasks[name].map { task in
            TaskRow(name: name, state: DashboardViews.badge(task.status.rawValue), duration: task.duration_ms.map { HumanText.duration(millis: $0) },
                    attempts: task.attempts, exit: task.exit_code, agent: task.agent, error: task.status == .success ? nil : task.error)
        } }
        let view = View(id: found.id, state: DashboardViews.badge(found.state.rawValue), workflow: found.workflow, version: found.workflowVersion,
                        trigger: found.trigger.rawValue, schedule: found.schedule, stack: found.stack, queued: DashboardViews.stamp(wired.queued_at),
                        started: DashboardViews.stamp(wired.started_at), ended: DashboardViews.stamp(wired.ended_at), duration: DashboardViews.duration(wired),
                        error: found.error, cancellable: !found.state.isFinished, csrf: context.csrf, dag: dag, tasks: tasks,
                        lines: lines.map { Self.line($0.line, router: router) }.map {
                            Line(level: $0.level, at: $0.at, tag: $0.tag, text: $0.text)
                        }, after: lines.last?.id ?? 0, live: !found.state.isFinished, truncated: truncated)
        return context.page("Run #\(found.id)", "run", view, section: "/runs")
    }

    /// A log line's parts, shared with the live stream: `task/stream` is the tag of issue 8.
    static func line(_ line: RunStore.LogLine, router: ControlRouter) -> (level: String, at: DashboardViews.Stamp?, tag: String?, text: String) {
        let tag = [line.task, line.stream].compactMap { $0 }.joined(separator: "/")
        return (line.level, DashboardViews.stamp(router.preciseTime(line.at)), tag.isEmpty ? nil : tag, line.message)
    }
}

/// The task graph of each workflow version, found by planning its stored source once (a sandboxed
/// check); file runs, whose source is not kept, show their tasks without edges.
final class PlanCache: Sendable {
    struct Plan: Sendable { var tasks: [String]; var needs: [String: [String]] }
    private let plans = Mutex<[String: Plan]>([:])
    private static let capacity = 512

    func plan(of run: RunStore.Run, router: ControlRouter) async -> Plan {
        guard let version = run.workflowVersion else { return Plan(tasks: [], needs: [:]) }
        let key = "\(run.workflow)\u{0}\(version)"
        if let known = plans.withLock({ $0[key] }) { return known }
        let entry = (try? router.workflows.get(run.workflow, content: false))?.entry
        guard let source = try? router.workflows.source(run.workflow, version: version),
              let checked = try? await router.check(source, file: "\(run.workflow).sloth", workflow: entry) else {
            return Plan(tasks: [], needs: [:])
        }
        let plan = Plan(tasks: checked.tasks, needs: checked.needs)
        plans.withLock { plans in
            if plans.count >= Self.capacity { plans.removeAll() }
            plans[key] = plan
        }
        return plan
    }
}

import Catalog
import Runner

/// Validation at the door (SPEC section 10): a workflow file is loaded and planned as `sloth run -f` would
/// (`WorkflowCheck`) before the catalog stores it, `--task` names are checked before a run is queued or a
/// schedule stored, so nothing that can only fail is kept; and a filter naming nothing is refused rather
/// than answered with an empty list.
extension ControlRouter {
    /// `WorkflowCheck.check`, its refusals as 400 answers (file:line where the error has one).
    func check(_ content: String, file: String, workflow: String?, storedEntry: String? = nil, tasks: [String] = []) async throws
        -> WorkflowCheck.Checked {
        do {
            return try await WorkflowCheck.check(content, file: file, workflow: workflow, storedEntry: storedEntry, tasks: tasks,
                                                 cacheDirectory: WorkflowCheck.cacheDirectory(of: database))
        } catch .ambiguousWorkflow(let file, let names) {
            throw BadRequest(message: "\(file) defines \(names.count) workflows (\(names.joined(separator: ", "))): "
                + "name the one it provides with --workflow NAME")
        } catch .storage(let message) {
            throw BadRequest(status: 500, code: "storage", message: message)
        } catch {
            throw BadRequest(message: error.description)
        }
    }

    /// Each of `tasks` must be a task of the catalog workflow's current version (read with its content).
    func checkTasks(_ tasks: [String], of workflow: WorkflowStore.Workflow) async throws {
        _ = try await check(workflow.content ?? "", file: workflow.filePath ?? "\(workflow.name).sloth", workflow: workflow.entry, tasks: tasks)
    }
}

extension ControlRouter {
    /// `GET /v1/runs`'s query. A workflow or schedule counts as known while the catalog has it or a run
    /// in the history names it (runs outlive what started them).
    func runFilter(_ request: ControlRequest) throws -> RunStore.Filter {
        let query = request.query
        if let stack = query["stack"], !stack.isEmpty { try stacks.require(stack) }
        if let state = query["state"], RunState(rawValue: state) == nil {
            throw BadRequest(message: "unknown run state \"\(state)\": use one of \(RunState.names.joined(separator: " "))")
        }
        if let workflow = query["workflow"], (try? workflows.get(workflow, content: false)) == nil, try !runs.mentions(workflow: workflow) {
            throw BadRequest(status: 404, code: "not_found", message: "no workflow named \"\(workflow)\" in the catalog or the run history")
        }
        if let schedule = query["schedule"], (try? schedules.get(schedule)) == nil, try !runs.mentions(schedule: schedule) {
            throw BadRequest(status: 404, code: "not_found", message: "no schedule named \"\(schedule)\" (and no run of one in the history)")
        }
        var limit = 20
        if let text = query["limit"] {
            guard let number = Int(text), number > 0 else { throw BadRequest(message: "invalid limit \"\(text)\": a whole number above 0") }
            limit = number
        }
        var before: Int64?
        if let text = query["before"], !text.isEmpty {
            guard let id = Int64(text), id > 0 else { throw BadRequest(message: "invalid before \"\(text)\": a run id") }
            before = id
        }
        return RunStore.Filter(workflow: query["workflow"], state: query["state"].flatMap(RunState.init), schedule: query["schedule"], stack: query["stack"],
                               agent: query["agent"].flatMap { $0.isEmpty ? nil : $0 }, before: before, limit: min(limit, 100_000))
    }
}

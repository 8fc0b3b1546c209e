import Catalog
import Scheduler

/// How a store's error answers on the wire: 404 for what does not exist, 409 for a conflict with what
/// is stored, 400 for bad input, 500 for the daemon's own trouble (the CLI exits 2 on 4xx, 1 on 5xx).
extension ControlResponse {
    static func failure(for error: Error) -> ControlResponse {
        switch error {
        case let error as WorkflowStore.Error:
            switch error {
            case .duplicate: .failure(409, "duplicate", error.description)
            case .unknown: .failure(404, "not_found", error.description)
            case .storage: .failure(500, "storage", error.description)
            }
        case let error as ScheduleStore.Error:
            switch error {
            case .duplicate: .failure(409, "duplicate", error.description)
            case .unknown: .failure(404, "not_found", error.description)
            case .unknownWorkflow: .failure(400, "unknown_workflow", error.description)
            case .storage: .failure(500, "storage", error.description)
            }
        case let error as StackStore.Error:
            switch error {
            case .duplicate: .failure(409, "duplicate", error.description)
            case .unknown: .failure(404, "not_found", error.description)
            case .usedBySchedules, .notEmpty: .failure(409, "in_use", error.description)
            case .unknownKeys: .failure(404, "not_found", error.description)
            case .storage: .failure(500, "storage", error.description)
            }
        case let error as SecretStore.Error:
            switch error {
            case .unknown, .unknownStack: .failure(404, "not_found", error.description)
            case .newKeyNeeded: .failure(400, "invalid", error.description)
            case .undecryptable, .key, .storage: .failure(500, "storage", error.description)
            }
        case let error as HookStore.Error:
            switch error {
            case .duplicate: .failure(409, "duplicate", error.description)
            case .unknown: .failure(404, "not_found", error.description)
            case .storage: .failure(500, "storage", error.description)
            }
        case let error as AgentStore.Error:
            switch error {
            case .unknownAgent, .unknownToken: .failure(404, "not_found", error.description)
            case .connected: .failure(409, "in_use", error.description)
            case .storage: .failure(500, "storage", error.description)
            }
        case let error as ScheduleRequestError: .failure(400, "invalid", error.description)
        case let error as ControlRouter.BadRequest: .failure(error.status, error.code, error.message)
        default: .failure(500, "internal", "\(error)")
        }
    }
}

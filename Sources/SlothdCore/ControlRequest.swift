import Foundation
import NIOHTTP1

// Also compiled into the fuzzer (fuzz/Sources/FuzzControl links this file): it needs nothing else of slothd.

/// One request on the control socket, already read in full.
struct ControlRequest: Sendable {
    var method: String
    var path: [String]
    var query: [String: String]
    var body: [UInt8]
    var peerUID: UInt32?
    /// Header values by lower-cased name (repeats joined with ", "; cookies with "; ").
    var headers: [String: String] = [:]
    /// The dashboard user, once the web door has checked the session or login token.
    var user: String?
    /// The TCP peer's address (the web door's login limit counts by it).
    var remote: String?
}

extension ControlRequest {
    /// From the decoded head: the path after `/v1` as segments, and the query.
    init(_ head: HTTPRequestHead, body: [UInt8], peer: UInt32?) {
        let components = URLComponents(string: head.uri)
        // Split before decoding, so an encoded slash stays inside its segment (`runs/1%2Fcancel` is no cancel).
        let encoded = components?.percentEncodedPath ?? head.uri
        var path = encoded.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        if path.first == "v1" { path.removeFirst() } else { path = ["unversioned"] + path }
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        self.init(method: head.method.rawValue, path: path, query: query, body: body, peerUID: peer)
        for (name, value) in head.headers {
            let key = name.lowercased()
            headers[key] = headers[key].map { $0 + (key == "cookie" ? "; " : ", ") + value } ?? value
        }
    }
}

/// The resources of the API, from the path after `/v1`.
enum ControlEndpoint: Equatable {
    case status, workflows, runs
    case workflow(String), workflowHistory(String), workflowActivation(String, active: Bool)
    case run(String), runLogs(String), runResult(String), runCancel(String)
    case schedules, schedule(String), scheduleAction(String, action: String), schedulerSwitch(enabled: Bool)
    case stacks, stack(String), stackValues(String), stackActivation(String), secrets, secret(String), secretsRekey
    case events, event(String), eventsCleanup
    case hooks, hook(String), hookAction(String, action: String)
    case agents, agent(String), agentRun(String), agentTokens, agentToken(String), agentCommand(String)
    case loginTokens, loginToken(String)

    init?(_ path: [String]) {
        switch path.count {
        case 1 where path[0] == "status": self = .status
        case 1 where path[0] == "workflows": self = .workflows
        case 1 where path[0] == "runs": self = .runs
        case 2 where path[0] == "workflows": self = .workflow(path[1])
        case 2 where path[0] == "runs": self = .run(path[1])
        case 3 where path[0] == "workflows" && path[2] == "history": self = .workflowHistory(path[1])
        case 3 where path[0] == "workflows" && (path[2] == "activate" || path[2] == "deactivate"):
            self = .workflowActivation(path[1], active: path[2] == "activate")
        case 3 where path[0] == "runs" && path[2] == "logs": self = .runLogs(path[1])
        case 3 where path[0] == "runs" && path[2] == "result": self = .runResult(path[1])
        case 3 where path[0] == "runs" && path[2] == "cancel": self = .runCancel(path[1])
        case 1 where path[0] == "schedules": self = .schedules
        case 2 where path[0] == "schedules": self = .schedule(path[1])
        case 3 where path[0] == "schedules" && ["enable", "disable", "trigger"].contains(path[2]):
            self = .scheduleAction(path[1], action: path[2])
        case 2 where path[0] == "scheduler" && (path[1] == "enable" || path[1] == "disable"):
            self = .schedulerSwitch(enabled: path[1] == "enable")
        case 1 where path[0] == "stacks": self = .stacks
        case 2 where path[0] == "stacks": self = .stack(path[1])
        case 3 where path[0] == "stacks" && path[2] == "values": self = .stackValues(path[1])
        case 3 where path[0] == "stacks" && path[2] == "activate": self = .stackActivation(path[1])
        case 1 where path[0] == "secrets": self = .secrets
        case 2 where path[0] == "secrets-key" && path[1] == "rotate": self = .secretsRekey
        case 1 where path[0] == "events": self = .events
        case 2 where path[0] == "events" && path[1] == "cleanup": self = .eventsCleanup
        case 2 where path[0] == "events": self = .event(path[1])
        case 1 where path[0] == "hooks": self = .hooks
        case 2 where path[0] == "hooks": self = .hook(path[1])
        case 3 where path[0] == "hooks" && ["enable", "disable", "test"].contains(path[2]): self = .hookAction(path[1], action: path[2])
        case 2 where path[0] == "secrets": self = .secret(path[1])
        case 1 where path[0] == "agents": self = .agents
        case 2 where path[0] == "agents": self = .agent(path[1])
        case 3 where path[0] == "agents" && path[2] == "run": self = .agentRun(path[1])
        case 1 where path[0] == "agent-tokens": self = .agentTokens
        case 2 where path[0] == "agent-tokens": self = .agentToken(path[1])
        case 2 where path[0] == "agent-commands": self = .agentCommand(path[1])
        case 1 where path[0] == "login-tokens": self = .loginTokens
        case 2 where path[0] == "login-tokens": self = .loginToken(path[1])
        default: return nil
        }
    }
}

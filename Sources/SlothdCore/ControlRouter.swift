import Agents
import Catalog
import Control
import Crypto
import Foundation
import Runner
import Scheduler

struct ControlResponse: Sendable {
    /// Writes a streamed body piece by piece (server-sent events) until it returns or the peer leaves.
    typealias Stream = @Sendable (_ send: @Sendable ([UInt8]) async throws -> Void) async throws -> Void

    var status: Int
    var body: [UInt8]
    var contentType = "application/json"
    /// Further headers (Set-Cookie, Location, Cache-Control).
    var headers: [(String, String)] = []
    /// When set, the body is this stream instead of `body`.
    var stream: Stream?

    static func json(_ value: some Encodable, status: Int = 200) -> ControlResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ControlResponse(status: status, body: Array((try? encoder.encode(value)) ?? Data("{}".utf8)))
    }

    static func failure(_ status: Int, _ code: String, _ message: String) -> ControlResponse {
        json(ControlAPI.Failure(code: code, message: message), status: status)
    }
}

/// The `/v1` API: each route validates its input, acts on the catalog or the worker pool, and records
/// every change in the audit table with the caller's uid.
public struct ControlRouter: Sendable {
    let database: CatalogDatabase
    let pool: WorkerPool
    let metrics: DaemonMetrics
    let zone: ZoneRules
    let clock: any SchedulerClock
    /// Milliseconds since 1970.
    let startedAt: Int64
    let access: AccessPolicy
    let scheduler: ScheduleService
    let keyring: SecretKeyring
    let hookService: HookService
    let log: DaemonLog
    /// The agents' hub and `agent run`'s output, when slothd listens for agents.
    let agentHub: AgentHub?
    let agentCommands: AgentCommandOutputs?
    /// Where the dashboard listens, for `sloth ui` (set by the composition root).
    public var dashboardURL: String?

    public init(database: CatalogDatabase, pool: WorkerPool, metrics: DaemonMetrics, zone: ZoneRules, clock: any SchedulerClock,
                access: AccessPolicy, scheduler: ScheduleService, keyring: SecretKeyring, hookService: HookService, log: DaemonLog,
                agentHub: AgentHub? = nil) {
        (self.database, self.pool, self.metrics, self.zone, self.clock, self.startedAt) = (database, pool, metrics, zone, clock, clock.nowMillis())
        (self.access, self.scheduler, self.keyring, self.hookService, self.log) = (access, scheduler, keyring, hookService, log)
        self.agentHub = agentHub
        agentCommands = agentHub.map(AgentCommandOutputs.init)
    }

    /// Seconds since 1970 on the daemon's clock.
    var nowSeconds: Int64 { clock.nowMillis() / 1000 }

    var workflows: WorkflowStore { WorkflowStore(database: database) }
    var runs: RunStore { RunStore(database: database) }

    func respond(_ request: ControlRequest) async -> ControlResponse {
        if let uid = request.peerUID, !access.allows(uid) {
            return .failure(403, "forbidden", "uid \(uid) may not use slothd (allowed: root, the daemon's user and its configured group)")
        }
        // JSON decoding would put U+FFFD in place of bad bytes and store the result (SPEC section 10).
        if let offset = UTF8Validation.firstInvalidByte(in: request.body) {
            return .failure(400, "invalid", "invalid UTF-8 in the request body at byte \(offset)")
        }
        if request.method == "GET" && request.path == ["unversioned", "metrics"] {
            let schedules = await scheduler.metricsText() + (agentHub?.metricsText() ?? [])
            return ControlResponse(status: 200, body: metrics.text(appending: schedules), contentType: "text/plain; version=0.0.4")
        }
        do {
            return try await route(request)
        } catch {
            return .failure(for: error)
        }
    }

    struct BadRequest: Error {
        var status = 400
        var code = "invalid"
        var message: String
    }

    typealias Endpoint = ControlEndpoint

    private func route(_ request: ControlRequest) async throws -> ControlResponse {
        let notFound = ControlResponse.failure(404, "not_found", "no such endpoint: \(request.method) /v1/\(request.path.joined(separator: "/"))")
        guard let endpoint = Endpoint(request.path) else { return notFound }
        switch (request.method, endpoint) {
        case ("GET", .status): return .json(await status())
        case ("GET", .workflows): return .json(try workflows.list().map { wire($0) })
        case ("POST", .workflows): return try await addWorkflow(request)
        case ("GET", .workflow(let name)): return .json(wire(try workflows.get(name, content: request.query["content"] == "1")))
        case ("PUT", .workflow(let name)): return try await updateWorkflow(name, request)
        case ("DELETE", .workflow(let name)):
            try workflows.remove(name)
            try audit(request, "workflow.remove", name)
            return .json(ControlClient.Empty())
        case ("GET", .workflowHistory(let name)):
            return .json(try workflows.history(name).map {
                ControlAPI.Version(version: $0.version, sha256: $0.sha256, file: $0.filePath, created_at: time($0.createdAt))
            })
        case ("POST", .workflowActivation(let name, let active)):
            let workflow = try workflows.setActive(name, active)
            try audit(request, active ? "workflow.activate" : "workflow.deactivate", name)
            return .json(wire(workflow))
        case ("POST", .runs): return try await startRun(request)
        case ("GET", .runs):
            let filter = try runFilter(request)
            return .json(try wire(runs.list(filter)))
        case ("GET", .run(let id)): return .json(try wire(run(id)))
        case ("GET", .runLogs(let id)): return try await logs(id, request)
        case ("GET", .runResult(let id)): return try result(id)
        case ("POST", .runCancel(let id)):
            let found = try run(id)
            var cancelled = pool.cancel(found.id, reason: .user)
            if !cancelled, let schedule = found.schedule { cancelled = await scheduler.cancelWaiting(found.id, schedule: schedule) }
            guard cancelled else {
                throw BadRequest(status: 409, code: "finished", message: "run \(found.id) is already \(found.state)")
            }
            try audit(request, "run.cancel", String(found.id))
            return .json(try wire(run(id)))
        case ("GET", .schedules): return .json(try await listSchedules())
        case ("POST", .schedules): return try await addSchedule(request)
        case ("GET", .schedule(let name)): return .json(try await showSchedule(name, next: Int(request.query["next"] ?? "5") ?? 5))
        case ("DELETE", .schedule(let name)): return try await removeSchedule(name, request)
        case ("POST", .scheduleAction(let name, let action)): return try await scheduleAction(name, action, request)
        case ("POST", .schedulerSwitch(let enabled)): return try await switchScheduler(enabled, request)
        case ("GET", .stacks): return .json(try stacks.list().map(wire))
        case ("POST", .stacks): return try createStack(request)
        case ("GET", .stack(let name)): return .json(try showStack(name))
        case ("DELETE", .stack(let name)): return try deleteStack(name, request)
        case ("POST", .stackValues(let name)): return try setStackValues(name, request)
        case ("POST", .stackActivation(let name)): return try activateStack(name, request)
        case ("GET", .secrets): return try listSecrets(request)
        case ("GET", .secret(let name)): return try getSecret(name, request)
        case ("PUT", .secret(let name)): return try setSecret(name, request)
        case ("DELETE", .secret(let name)): return try removeSecret(name, request)
        case ("POST", .secretsRekey): return try rekeySecrets(request)
        case ("GET", .events): return try listEvents(request)
        case ("GET", .event(let id)): return try showEvent(id)
        case ("POST", .eventsCleanup): return try cleanupEvents(request)
        case ("GET", .hooks): return .json(try hooks.list().map(wire))
        case ("POST", .hooks): return try await addHook(request)
        case ("GET", .hook(let name)): return .json(try showHook(name))
        case ("DELETE", .hook(let name)): return try removeHook(name, request)
        case ("POST", .hookAction(let name, let action)): return try await hookAction(name, action, request)
        case ("GET", .agents): return .json(try listAgents())
        case ("GET", .agent(let name)): return .json(try showAgent(name))
        case ("DELETE", .agent(let name)): return try removeAgent(name, request)
        case ("POST", .agentRun(let name)): return try runOnAgent(name, request)
        case ("GET", .agentCommand(let id)): return try await agentCommandOutput(id, request)
        case ("GET", .agentTokens): return .json(try agentStore.tokens().map(wire))
        case ("POST", .agentTokens): return try createAgentToken(request)
        case ("DELETE", .agentToken(let id)): return try revokeAgentToken(id, request)
        case ("GET", .loginTokens): return .json(try LoginTokenStore(database: database).list().map(wire))
        case ("POST", .loginTokens): return try createLoginToken(request)
        case ("DELETE", .loginToken(let id)): return try revokeLoginToken(id, request)
        default:
            return .failure(405, "method_not_allowed", "\(request.method) is not allowed on /v1/\(request.path.joined(separator: "/"))")
        }
    }

    private func addWorkflow(_ request: ControlRequest) async throws -> ControlResponse {
        let body = try decode(ControlAPI.AddWorkflow.self, request)
        guard Self.validName(body.name) else { throw BadRequest(message: "invalid workflow name \"\(body.name)\": use letters, digits, . _ -") }
        let checked = try await check(body.content, file: body.file ?? body.name, workflow: body.workflow)
        let added = try workflows.add(.init(name: body.name, content: body.content, filePath: body.file,
                                            description: body.description, tags: body.tags, active: body.active, entry: checked.entry))
        try audit(request, "workflow.add", body.name)
        return .json(wire(added), status: 201)
    }

    private func updateWorkflow(_ name: String, _ request: ControlRequest) async throws -> ControlResponse {
        let body = try decode(ControlAPI.UpdateWorkflow.self, request)
        let current = try workflows.get(name, content: false)
        let checked = try await check(body.content, file: body.file ?? name, workflow: body.workflow, storedEntry: current.entry)
        let (updated, changed) = try workflows.update(name: name, content: body.content, filePath: body.file,
                                                      entry: checked.entry)
        if changed { try audit(request, "workflow.update", name, detail: "version \(updated.version)") }
        var answer = wire(updated)
        answer.changed = changed
        return .json(answer)
    }

    private func startRun(_ request: ControlRequest) async throws -> ControlResponse {
        let body = try decode(ControlAPI.StartRun.self, request)
        let (name, version, job) = try await body.content == nil ? catalogRun(body) : fileRun(body)
        let place: WorkerPool.Reservation
        do {
            place = try pool.reserve()
        } catch {
            // A refused run is no run: only the event says it was asked for.
            _ = try? EventStore(database: database).record(type: "run.rejected", data: [
                "workflow": name, "reason": error.description,
            ], numbers: request.peerUID.map { ["uid": Int64($0)] } ?? [:], stack: job.stack)
            log.error("refused a run of \(name): \(error.description)")
            throw BadRequest(status: 503, code: "queue_full", message: error.description)
        }
        let queued: RunStore.Run
        do {
            queued = try runs.queue(.init(workflow: name, workflowVersion: version, trigger: .manual, stack: job.stack,
                                          file: body.content == nil ? nil : job.file),
                                    requester: .init(uid: request.peerUID, user: request.user))
        } catch {
            pool.release(place)
            throw error
        }
        var queuedJob = job
        queuedJob.queuedRunID = queued.id
        pool.submit(.init(runID: queued.id, workflow: name, request: queuedJob, queuedAtMillis: clock.nowMillis()), using: place)
        // A queued run has no task rows yet: nothing to read back.
        return .json(wire(queued, tasks: []), status: 202)
    }

    /// `sloth run NAME`: the catalog workflow's current version.
    private func catalogRun(_ body: ControlAPI.StartRun) async throws -> (String, Int?, RunRequest) {
        let workflow = try workflows.get(body.workflow)
        guard workflow.active else {
            throw BadRequest(status: 409, code: "inactive", message: "workflow \"\(workflow.name)\" is inactive (sloth workflow activate \(workflow.name))")
        }
        let stack = try stackScope(body.stack)
        if !body.tasks.isEmpty { try await checkTasks(body.tasks, of: workflow) }
        var job = RunRequest(file: workflow.filePath ?? "\(workflow.name).sloth", source: workflow.content ?? "", workflow: workflow.entry,
                             tasks: body.tasks, params: body.params, trigger: .manual, stack: stack)
        job.delegateTo = body.delegate_to ?? []
        return (workflow.name, workflow.version, job)
    }

    /// `sloth run -f FILE --delegate-to A`: the file, checked at the door as `workflow add` checks it.
    private func fileRun(_ body: ControlAPI.StartRun) async throws -> (String, Int?, RunRequest) {
        let file = body.file ?? "run.sloth", entry = body.workflow.isEmpty ? nil : body.workflow
        let checked = try await check(body.content ?? "", file: file, workflow: entry, tasks: body.tasks)
        var values = LuaValue.table(LuaTable())
        if let text = body.values_json {
            do { values = try LuaJSON.decode(text) } catch { throw BadRequest(message: "--values: \(error.description)") }
        }
        var job = RunRequest(file: file, source: body.content ?? "", workflow: entry, tasks: body.tasks, params: body.params,
                             values: values, trigger: .manual, stack: try stackScope(body.stack))
        job.delegateTo = body.delegate_to ?? []
        return (checked.workflow, nil, job)
    }

    func status() async -> ControlAPI.Status {
        let summary = await scheduler.summary()
        var answer = ControlAPI.Status(version: SlothVersion.current, pid: getpid(), uptime_seconds: (clock.nowMillis() - startedAt) / 1000,
                          workers: pool.workers, busy_workers: pool.busy, queued: pool.queued,
                          queue_capacity: pool.capacity, scheduler: summary.paused ? "paused" : "on", schedules: summary.schedules,
                          next_fire: summary.nextFireMillis.map(time), database: database.path)
        answer.database_problem = summary.databaseProblem
        answer.scheduler_note = summary.pauseNote
        answer.running = pool.active.map { ControlAPI.RunningRun(id: $0.id, workflow: $0.run.workflow, schedule: $0.run.schedule,
                                                                  started_at: time($0.run.startedAt)) }
        answer.agents_connected = agentHub?.connectedCount
        answer.dashboard_url = dashboardURL
        return answer
    }

    // MARK: pieces

    func run(_ id: String) throws -> RunStore.Run {
        guard let number = Int64(id) else { throw BadRequest(message: "invalid run id \"\(id)\"") }
        guard let found = try runs.run(number) else { throw BadRequest(status: 404, code: "not_found", message: "no run \(number)") }
        return found
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: ControlRequest) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(request.body))
        } catch {
            throw BadRequest(message: "malformed request body: \(error)")
        }
    }

    func audit(_ request: ControlRequest, _ action: String, _ object: String, detail: String? = nil) throws {
        try AuditStore(database: database).record(uid: request.peerUID, user: request.user, action: action, object: object, detail: detail)
    }

    func time(_ millis: Int64) -> String { RFC3339.format(millis / 1000, in: zone) }

    private func wire(_ workflow: WorkflowStore.Workflow) -> ControlAPI.Workflow {
        var wired = ControlAPI.Workflow(name: workflow.name, description: workflow.description, tags: workflow.tags, active: workflow.active,
                            version: workflow.version, sha256: workflow.sha256, file: workflow.filePath,
                            created_at: time(workflow.createdAt), updated_at: time(workflow.updatedAt),
                            last_used_at: workflow.lastUsedAt.map(time), usage_count: workflow.usageCount, content: workflow.content)
        wired.entry = workflow.entry
        return wired
    }

    static func validName(_ name: String) -> Bool {
        PlainName.isValid(name)
    }
}

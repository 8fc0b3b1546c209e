import AgentWire
import Foundation
import Runner
import Synchronization

/// The tasks an agent holds (SPEC section 8): each offered task runs on a thread of its own, at most
/// `workers` at once (the rest wait their turn), and its result is kept until the master has been
/// sent it, so a result finished while the stream was down goes out when it is back.
final class AgentTasks: Sendable {
    struct Held {
        let fence: Int64
        let cancellation: RunCancellation
        var result: Slothd_Agent_V1_TaskResult?
    }

    private let runner: WorkflowRunner
    private let slots: DispatchSemaphore
    private let held = Mutex<[String: Held]>([:])
    /// Sends a message on the current stream; false when there is none.
    private let send: @Sendable (Slothd_Agent_V1_AgentMessage) -> Bool
    private let link: @Sendable (String) -> MasterLink

    init(runner: WorkflowRunner, workers: Int, send: @escaping @Sendable (Slothd_Agent_V1_AgentMessage) -> Bool,
         link: @escaping @Sendable (String) -> MasterLink) {
        self.runner = runner
        slots = DispatchSemaphore(value: max(1, workers))
        self.send = send
        self.link = link
    }

    var running: Int { held.withLock { $0.values.filter { $0.result == nil }.count } }

    /// What the agent reports when it registers.
    var leases: [Slothd_Agent_V1_HeldTask] {
        held.withLock { $0.map { lease, task in .with { $0.lease = lease; $0.fence = task.fence } } }.sorted { $0.lease < $1.lease }
    }

    func accept(_ offer: Slothd_Agent_V1_TaskOffer) {
        let cancellation = RunCancellation()
        let isNew = held.withLock { held in
            guard held[offer.lease] == nil else { return false }
            held[offer.lease] = Held(fence: offer.fence, cancellation: cancellation)
            return true
        }
        _ = send(.with { $0.ack = .with { $0.lease = offer.lease; $0.fence = offer.fence } })
        guard isNew else { return }
        let task = OfferedTask(file: offer.file, source: offer.source, workflow: offer.workflow, task: offer.task, params: offer.params,
                               valuesJSON: offer.valuesJson, stack: offer.stack.isEmpty ? nil : offer.stack, depsJSON: offer.depsJson,
                               masked: offer.masked)
        LuaThread.detach(name: "slothd agent task") { [self] in
            slots.wait()
            defer { slots.signal() }
            let started = LuaState.monotonicMillis()
            let outcome = cancellation.reason == nil
                ? runner.runOffered(task, link: link(offer.lease), lines: { [send] lines in
                    guard !lines.isEmpty else { return }
                    _ = send(.with {
                        $0.logs = .with {
                            $0.lines = lines.map { line in
                                .with {
                                    $0.lease = offer.lease
                                    $0.level = line.level
                                    $0.stream = line.stream ?? ""
                                    $0.message = line.message
                                    $0.fieldsJson = line.fieldsJSON ?? ""
                                }
                            }
                        }
                    })
                }, cancellation: cancellation)
                : DelegationResult(success: false, error: cancellation.reason?.message)
            finished(offer, outcome, durationMillis: LuaState.monotonicMillis() - started)
        }
    }

    private func finished(_ offer: Slothd_Agent_V1_TaskOffer, _ outcome: DelegationResult, durationMillis: Int64) {
        let result = Slothd_Agent_V1_TaskResult.with {
            $0.lease = offer.lease
            $0.fence = offer.fence
            $0.success = outcome.success
            $0.error = outcome.error ?? ""
            $0.outputJson = outcome.outputJSON ?? ""
            if let code = outcome.exitCode { ($0.exitCode, $0.hasExitCode_p) = (Int32(code), true) }
            $0.durationMs = durationMillis
        }
        held.withLock { $0[offer.lease]?.result = result }
        resend()
    }

    /// Sends every result the master has not had yet; a result stays held until its send succeeded.
    func resend() {
        let results = held.withLock { $0.compactMap { $0.value.result } }
        for result in results where send(.with { $0.result = result }) {
            held.withLock { $0[result.lease] = nil }
        }
    }

    /// The master cancelled the task, or no longer knows it (`stale`): its process group is killed.
    func cancel(_ lease: String, reason: String) {
        let task = held.withLock { held -> Held? in
            guard let task = held[lease] else { return nil }
            if task.result != nil { held[lease] = nil }
            return task
        }
        task?.cancellation.cancel(.user)
    }
}

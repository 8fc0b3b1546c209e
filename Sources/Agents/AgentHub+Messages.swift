import AgentWire
import Catalog
import Runner

extension AgentHub {
    /// One message of a registered agent's stream.
    func receive(_ message: Slothd_Agent_V1_AgentMessage, from name: String) {
        touch(name)
        switch message.body {
        case .heartbeat, .register, nil:
            break
        case .ack(let ack):
            acknowledge(ack.lease, of: name)
        case .logs(let batch):
            guard let lease = batch.lines.first.flatMap({ lease($0.lease, of: name) }) else { return }
            lease.log(batch.lines.map {
                DelegatedLogLine(level: $0.level, stream: $0.stream.isEmpty ? nil : $0.stream, message: $0.message,
                                 fieldsJSON: $0.fieldsJson.isEmpty ? nil : $0.fieldsJson)
            })
        case .result(let result):
            guard lease(result.lease, of: name) != nil else { return }
            end(result.lease, DelegationResult(success: result.success, error: result.error.isEmpty ? nil : result.error,
                                               outputJSON: result.outputJson.isEmpty ? nil : result.outputJson,
                                               exitCode: result.hasExitCode_p ? Int(result.exitCode) : nil),
                fence: result.fence)
        case .secret(let request):
            send(.with { $0.secret = answer(request, from: name) }, to: name)
        case .state(let request):
            send(.with { $0.state = answer(request, from: name) }, to: name)
        case .output(let output):
            command(output.id)?.output(output.stderr, Array(output.data))
        case .exit(let exit):
            endCommand(exit.id, exitCode: Int(exit.exitCode), error: exit.error.isEmpty ? nil : exit.error)
        }
    }

    /// A secret for a task the agent holds: resolved for the task's stack as on the master, audited as
    /// read by the run on that agent, and masked in the run from then on.
    func answer(_ request: Slothd_Agent_V1_SecretRequest, from name: String) -> Slothd_Agent_V1_SecretReply {
        var reply = Slothd_Agent_V1_SecretReply()
        reply.request = request.request
        guard let lease = lease(request.lease, of: name) else {
            reply.error = "the task's lease is no longer held"
            return reply
        }
        let secrets = SecretStore(database: database, keyring: keyring)
        let stack = lease.row.stack
        let actor = "run \(lease.row.runID) on agent \(name)"
        do throws(SecretStore.Error) {
            let value: String
            do {
                value = try secrets.get(request.name, stack: stack, by: actor, runID: lease.row.runID)
            } catch .unknown where stack != nil {
                value = try secrets.get(request.name, stack: nil, by: actor, runID: lease.row.runID)
            }
            addSecret(value, to: request.lease)
            lease.mask(value)
            (reply.found, reply.value) = (true, value)
        } catch .unknown {
            reply.found = false
        } catch {
            reply.error = error.description
        }
        return reply
    }

    func answer(_ request: Slothd_Agent_V1_StateRequest, from name: String) -> Slothd_Agent_V1_StateReply {
        var reply = Slothd_Agent_V1_StateReply()
        reply.request = request.request
        guard let lease = lease(request.lease, of: name) else {
            reply.error = "the task's lease is no longer held"
            return reply
        }
        switch StateRequests.answer(request.op, arguments: StateRequests.decode(request.argumentsJson), database: database,
                                    stack: lease.row.stack, masked: lease.secrets) {
        case .success(let values): reply.resultJson = StateRequests.encode(values)
        case .failure(let error): reply.error = error.message
        }
        return reply
    }
}

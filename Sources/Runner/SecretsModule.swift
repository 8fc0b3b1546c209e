import Catalog

/// `secrets.get(name)` and `secrets.NAME` (SPEC section 5): the run's stack's secrets, then those set
/// outside any stack. A value read once is kept for the run and masked in all it logs and returns.
enum SecretsModule {
    /// Reads one secret: from the catalog on the master, over the agent's stream on an agent.
    typealias Source = (_ name: String) throws(SecretStore.Error) -> String

    /// The catalog's secrets of `stack`, then those outside any stack; every read is audited with the run.
    static func catalog(_ store: SecretStore, stack: String?, session: RunSession) -> Source {
        weak let session = session
        return { name throws(SecretStore.Error) in
            let actor = session?.runID.map { "run \($0)" } ?? "run"
            do throws(SecretStore.Error) {
                return try store.get(name, stack: stack, by: actor, runID: session?.runID)
            } catch .unknown where stack != nil {
                return try store.get(name, stack: nil, by: actor, runID: session?.runID)
            }
        }
    }

    static func functions(_ open: @escaping Source, stack: String?, session: RunSession) -> [String: LuaState.HostFunction] {
        // Weak: the session owns the Lua state, which owns these functions.
        weak let session = session
        var opened: [String: String] = [:]
        return [
            "get": { args throws(LuaHostError) in
                let name = try args.string(0, "secrets.get")
                if let value = opened[name] { return [.string(value)] }
                do throws(SecretStore.Error) {
                    let value = try open(name)
                    opened[name] = value
                    session?.log.redactor.add(value)
                    return [.string(value)]
                } catch .unknown {
                    return HostResult.failure("secrets: no secret named \"\(name)\" \(SecretStore.Error.place(stack)) (sloth secrets set \(name)\(stack.map { " --stack \($0)" } ?? ""))")
                } catch {
                    return HostResult.failure("secrets: \(error)")
                }
            },
        ]
    }
}

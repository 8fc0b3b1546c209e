import Catalog

/// `state`: JSON values in the shared database (SPEC section 5), scoped to the run's stack.
/// `with_lock` is written in Lua over `__try_lock`/`__unlock`, so that waiting for a lock yields.
enum StateModule {
    /// Every function of the module, for the agent's proxy of it.
    static let names = ["set", "get", "delete", "exists", "keys", "increment", "decrement", "compare_swap", "changed", "clear",
                        "__try_lock", "__unlock"]

    static func functions(_ store: StateStore, redactor: Redactor) -> [String: LuaState.HostFunction] {
        func guarded(_ body: () throws(StateStore.Error) -> [LuaValue]) throws(LuaHostError) -> [LuaValue] {
            do { return try body() } catch { throw LuaHostError("state: \(error.description)") }
        }
        /// State is stored in plaintext and shown by `sloth state`: a value holding a secret the run has
        /// read is refused, never stored.
        func storable(_ value: LuaValue, _ function: String) throws(LuaHostError) -> String {
            let json = LuaJSON.encode(value)
            guard redactor.redact(json) == json else {
                throw LuaHostError("\(function): the value contains a secret; secrets are never stored in state (use secrets.get where it is needed)")
            }
            return json
        }
        func decoded(_ json: String?) -> LuaValue {
            json.flatMap { try? LuaJSON.decode($0) } ?? .nil_
        }
        return [
            "set": { args throws(LuaHostError) in
                let key = try args.string(0, "state.set")
                let ttl = args.at(2).double
                let json = try storable(args.at(1), "state.set")
                return try guarded { () throws(StateStore.Error) in
                    if args.at(1) == .nil_ { try store.delete(key) } else {
                        try store.set(key, json: json, ttlSeconds: ttl)
                    }
                    return HostResult.ok
                }
            },
            "get": { args throws(LuaHostError) in
                let key = try args.string(0, "state.get")
                return try guarded { () throws(StateStore.Error) in
                    let value = decoded(try store.get(key))
                    return [value == .nil_ ? args.at(1) : value]
                }
            },
            "delete": { args throws(LuaHostError) in
                let key = try args.string(0, "state.delete")
                return try guarded { () throws(StateStore.Error) in [.boolean(try store.delete(key))] }
            },
            "exists": { args throws(LuaHostError) in
                let key = try args.string(0, "state.exists")
                return try guarded { () throws(StateStore.Error) in [.boolean(try store.get(key) != nil)] }
            },
            "keys": { args throws(LuaHostError) in
                let prefix = args.at(0).string ?? ""
                return try guarded { () throws(StateStore.Error) in
                    [.table(LuaTable(array: try store.keys(prefix: prefix).map(LuaValue.string)))]
                }
            },
            "increment": { args throws(LuaHostError) in
                let key = try args.string(0, "state.increment"), delta = args.at(1).int ?? 1
                return try guarded { () throws(StateStore.Error) in [.integer(try store.increment(key, by: delta))] }
            },
            "decrement": { args throws(LuaHostError) in
                let key = try args.string(0, "state.decrement"), delta = args.at(1).int ?? 1
                return try guarded { () throws(StateStore.Error) in [.integer(try store.increment(key, by: -delta))] }
            },
            "compare_swap": { args throws(LuaHostError) in
                let key = try args.string(0, "state.compare_swap")
                let expected = args.at(1) == .nil_ ? nil : LuaJSON.encode(args.at(1))
                let new = try storable(args.at(2), "state.compare_swap")
                return try guarded { () throws(StateStore.Error) in
                    [.boolean(try store.compareAndSwap(key, expected: expected, new: new))]
                }
            },
            "changed": { args throws(LuaHostError) in
                let key = try args.string(0, "state.changed"), json = try storable(args.at(1), "state.changed")
                return try guarded { () throws(StateStore.Error) in
                    guard try store.get(key) != json else { return [.boolean(false)] }
                    try store.set(key, json: json)
                    return [.boolean(true)]
                }
            },
            "clear": { args throws(LuaHostError) in
                let prefix = args.at(0).string ?? ""
                return try guarded { () throws(StateStore.Error) in [.integer(Int64(try store.clear(prefix: prefix)))] }
            },
            "__try_lock": { args throws(LuaHostError) in
                let name = try args.string(0, "state.with_lock"), owner = try args.string(1, "state.with_lock")
                let ttl = args.at(2).double ?? 300
                return try guarded { () throws(StateStore.Error) in [.boolean(try store.tryLock(name, owner: owner, ttlSeconds: ttl))] }
            },
            "__unlock": { args throws(LuaHostError) in
                let name = try args.string(0, "state.with_lock"), owner = try args.string(1, "state.with_lock")
                return try guarded { () throws(StateStore.Error) in
                    try store.unlock(name, owner: owner)
                    return HostResult.ok
                }
            },
        ]
    }
}

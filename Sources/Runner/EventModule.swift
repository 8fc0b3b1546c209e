import Catalog

/// `event`: custom events, stored as rows (hooks dispatch them in a later stage).
enum EventModule {
    static func functions(_ store: EventStore, session: RunSession) -> [String: LuaState.HostFunction] {
        // Weak: the session owns the Lua state, which owns these functions.
        weak let session = session
        func record(_ type: String, _ data: LuaValue) throws(LuaHostError) -> [LuaValue] {
            do {
                return [.integer(try store.record(type: type, dataJSON: LuaJSON.encode(session?.log.redactor.redact(data) ?? data), runID: session?.runID, stack: session?.request.stack))]
            } catch {
                return HostResult.failure("event: \(error)")
            }
        }
        return [
            "dispatch": { args throws(LuaHostError) in
                try record(try args.string(0, "event.dispatch"), args.at(1) == .nil_ ? .table(LuaTable()) : args.at(1))
            },
            // Sloth Runner's custom events: type `custom`, the name in the data; a table is the payload.
            "dispatch_custom": { args throws(LuaHostError) in
                let name = try args.string(0, "event.dispatch_custom")
                let detail = args.at(1), payload = detail.table != nil ? detail : args.at(2)
                var data: [String: LuaValue] = ["name": .string(name), "payload": payload.table != nil ? payload : .table(LuaTable())]
                if detail.table == nil, detail != .nil_ { data["message"] = detail }
                return try record("custom", LuaTable.record(data))
            },
            "dispatch_file": { args throws(LuaHostError) in
                let kind = try args.string(0, "event.dispatch_file")
                return try record("file.\(kind)", LuaTable.record(["path": args.at(1), "source": args.at(2)]))
            },
        ]
    }
}

import CLua

/// An error a Swift host function hands back to Lua; Lua sees it as a normal `error(message)`.
public struct LuaHostError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// One Lua 5.4 interpreter (the only Swift file that imports CLua).
///
/// Swift enters Lua only through `lua_pcall`; host functions return a status to the C trampoline,
/// which raises from C, so a Lua error never unwinds a Swift frame.
public final class LuaState {
    public typealias HostFunction = ([LuaValue]) throws(LuaHostError) -> [LuaValue]

    private let state: OpaquePointer
    private var hostFunctions: [HostFunctionBox] = []

    /// - Parameters:
    ///   - memoryLimit: bytes the state may allocate (0: unlimited).
    ///   - hookEvery: instructions between cancellation and deadline checks.
    public init(memoryLimit: Int = 512 << 20, hookEvery: Int32 = 1000) throws(LuaError) {
        guard let state = sloth_lua_newstate(memoryLimit, hookEvery) else { throw .cannotCreateState }
        self.state = state
        guard sloth_lua_openlibs(state) == LUA_OK else {
            sloth_lua_close(state)
            throw .memoryLimit
        }
    }

    deinit { sloth_lua_close(state) }

    /// Makes `body` callable from Lua as the global function `name`.
    public func register(global name: String, _ body: @escaping HostFunction) {
        pushHostFunction(body)
        lua_setglobal(state, name)
    }

    /// Makes each function callable as `table.name` (the global table is created or extended).
    public func register(table: String, _ functions: [String: HostFunction]) {
        if lua_getglobal(state, table) != LUA_TTABLE {
            sloth_lua_pop(state, 1)
            sloth_lua_newtable(state)
        }
        for (name, body) in functions {
            pushHostFunction(body)
            lua_setfield(state, -2, name)
        }
        lua_setglobal(state, table)
    }

    /// Host functions that capture nothing of a run, boxed once and shared by every state.
    public final class SharedTable: @unchecked Sendable {
        fileprivate let boxes: [(name: String, box: HostFunctionBox)]
        public init(_ functions: [String: HostFunction]) {
            boxes = functions.map { ($0.key, HostFunctionBox($0.value)) }
        }
    }

    /// Like `register(table:_:)`, without boxing each function again.
    public func register(table: String, _ shared: SharedTable) {
        if lua_getglobal(state, table) != LUA_TTABLE {
            sloth_lua_pop(state, 1)
            sloth_lua_newtable(state)
        }
        for (name, box) in shared.boxes {
            sloth_lua_pushswiftfunction(state, LuaState.trampolineTarget, Unmanaged.passUnretained(box).toOpaque())
            lua_setfield(state, -2, name)
        }
        lua_setglobal(state, table)
    }

    public func setGlobal(_ name: String, _ value: LuaValue) {
        Self.push(state, value)
        lua_setglobal(state, name)
    }

    /// Sets the global `name` to a table of byte strings (Lua strings need not be text).
    public func setGlobal(_ name: String, bytes: [String: [UInt8]]) {
        sloth_lua_newtable(state)
        for (key, value) in bytes {
            value.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(state, $0.baseAddress, $0.count) }
            }
            lua_setfield(state, -2, key)
        }
        lua_setglobal(state, name)
    }

    /// Runs bytecode that `bytecode(compiling:chunkName:)` made from the runtime's own sources; never
    /// workflow input, since malformed bytecode can crash the VM.
    @discardableResult
    public func runTrusted(bytecode: [UInt8], chunkName: String) throws(LuaError) -> [LuaValue] {
        let base = lua_gettop(state)
        defer { lua_settop(state, base) }
        sloth_lua_pushtraceback(state)
        let loaded = bytecode.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { sloth_lua_load_trusted_bytecode(state, $0.baseAddress, $0.count, "=" + chunkName) }
        }
        guard loaded == LUA_OK else { throw .syntax(.init(file: chunkName, line: nil), message: Self.string(state, at: -1) ?? "bad bytecode") }
        return try protectedCall(arguments: 0, base: base)
    }

    /// Compiles Lua text to bytecode, keeping line information for error messages.
    public static func bytecode(compiling source: String, chunkName: String) throws(LuaError) -> [UInt8] {
        let lua = try LuaState()
        try lua.compile(source, chunkName: chunkName, prefix: "=")
        var dumped = sloth_bytes(data: nil, size: 0, capacity: 0)
        defer { sloth_bytes_free(&dumped) }
        guard sloth_lua_dump_top(lua.state, &dumped) == 0, let data = dumped.data else { throw .memoryLimit }
        return Array(UnsafeRawBufferPointer(start: data, count: dumped.size))
    }

    /// Loads and runs a chunk under a protected call; `chunkName` is what Lua's messages call the file.
    @discardableResult
    public func run(_ source: String, chunkName: String) throws(LuaError) -> [LuaValue] {
        let base = lua_gettop(state)
        defer { lua_settop(state, base) }
        sloth_lua_pushtraceback(state)
        try compile(source, chunkName: chunkName)
        return try protectedCall(arguments: 0, base: base)
    }

    /// Compiles a chunk without running it and stores the function as the global `name`.
    public func load(_ source: String, chunkName: String, asGlobal name: String) throws(LuaError) {
        let base = lua_gettop(state)
        defer { lua_settop(state, base) }
        try compile(source, chunkName: chunkName)
        lua_setglobal(state, name)
    }

    /// Pushes the compiled chunk, or throws its syntax error (located at file:line).
    private func compile(_ source: String, chunkName: String, prefix: String = "@") throws(LuaError) {
        let loaded = source.withCString { sloth_luaL_loadbuffer(state, $0, source.utf8.count, prefix + chunkName) }
        guard loaded == LUA_OK else {
            let (at, message, _) = LuaError.split(Self.string(state, at: -1) ?? "syntax error")
            throw loaded == LUA_ERRMEM ? .memoryLimit : .syntax(at, message: message)
        }
    }

    /// Calls `table.function(arguments...)` (both globals) under a protected call.
    public func call(_ function: String, in table: String, _ arguments: [LuaValue]) throws(LuaError) -> [LuaValue] {
        let base = lua_gettop(state)
        defer { lua_settop(state, base) }
        sloth_lua_pushtraceback(state)
        guard lua_getglobal(state, table) == LUA_TTABLE else {
            throw .runtime(.init(file: nil, line: nil), message: "no table \(table)", traceback: "")
        }
        lua_pushlstring(state, function, function.utf8.count)
        lua_rawget(state, -2)
        sloth_lua_remove(state, -2)
        for argument in arguments { Self.push(state, argument) }
        return try protectedCall(arguments: Int32(arguments.count), base: base)
    }

    /// Calls the function below `arguments` values, with the traceback handler at `base + 1`; the results.
    private func protectedCall(arguments: Int32, base: Int32) throws(LuaError) -> [LuaValue] {
        let status = sloth_lua_pcall(state, arguments, LUA_MULTRET, base + 1)
        guard status == LUA_OK else {
            let text = Self.string(state, at: -1) ?? "error"
            if status == LUA_ERRMEM || text.hasPrefix("memory limit exceeded") { throw .memoryLimit }
            let (at, message, traceback) = LuaError.split(text)
            if message == "run cancelled" { throw .cancelled }
            throw .runtime(at, message: message, traceback: traceback)
        }
        let top = lua_gettop(state)
        return top > base + 1 ? ((base + 2)...top).map { Self.value(state, at: $0) } : []
    }

    /// Bytes the state currently holds.
    public var memoryInUse: Int { sloth_lua_memused(state) }

    /// Lua code running past this monotonic millisecond raises "timed out" (0: no deadline).
    public func setDeadline(monotonicMillis: Int64) {
        sloth_lua_set_deadline(state, monotonicMillis)
    }

    /// A handle another thread may use to stop the Lua code at its next hook check.
    public var interrupter: LuaInterrupter { LuaInterrupter(control: sloth_lua_getctl(state)) }

    public static func monotonicMillis() -> Int64 { sloth_monotonic_ms() }

    // MARK: the bridge

    fileprivate final class HostFunctionBox {
        let body: HostFunction
        init(_ body: @escaping HostFunction) { self.body = body }
    }

    private func pushHostFunction(_ body: @escaping HostFunction) {
        let box = HostFunctionBox(body)
        hostFunctions.append(box)
        sloth_lua_pushswiftfunction(state, LuaState.trampolineTarget, Unmanaged.passUnretained(box).toOpaque())
    }

    /// Called by the C trampoline: never raises; returns a result count or SLOTH_LUA_RAISE with the message on top.
    private static let trampolineTarget: sloth_lua_swift_fn = { state, context in
        guard let state, let context else { return SLOTH_LUA_RAISE }
        let box = Unmanaged<HostFunctionBox>.fromOpaque(context).takeUnretainedValue()
        let arguments = (0..<lua_gettop(state)).map { LuaState.value(state, at: $0 + 1) }
        do throws(LuaHostError) {
            let results = try box.body(arguments)
            for result in results { LuaState.push(state, result) }
            return Int32(results.count)
        } catch {
            lua_pushstring(state, error.message)
            return SLOTH_LUA_RAISE
        }
    }

    private static func string(_ state: OpaquePointer, at index: Int32) -> String? {
        var length = 0
        guard lua_type(state, index) == LUA_TSTRING, let bytes = lua_tolstring(state, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    private static func value(_ state: OpaquePointer, at index: Int32, depth: Int = 0) -> LuaValue {
        switch lua_type(state, index) {
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(state, index) != 0)
        case LUA_TNUMBER:
            return lua_isinteger(state, index) != 0 ? .integer(sloth_lua_tointeger(state, index)) : .number(sloth_lua_tonumber(state, index))
        case LUA_TSTRING: return string(state, at: index).map(LuaValue.string) ?? .nil_
        case LUA_TTABLE where depth < 64: return .table(table(state, at: index, depth: depth))
        default: return .nil_
        }
    }

    /// Reads a table with raw access only (no metamethods may run from Swift).
    private static func table(_ state: OpaquePointer, at index: Int32, depth: Int) -> LuaTable {
        let absolute = lua_absindex(state, index)
        var result = LuaTable()
        let length = lua_rawlen(state, absolute)
        if length > 0 {
            for position in 1...length {
                lua_rawgeti(state, absolute, lua_Integer(position))
                result.array.append(value(state, at: -1, depth: depth + 1))
                sloth_lua_pop(state, 1)
            }
        }
        lua_pushnil(state)
        while lua_next(state, absolute) != 0 {
            let isSequenceKey = lua_isinteger(state, -2) != 0 && (1...max(Int64(length), 1)).contains(sloth_lua_tointeger(state, -2)) && length > 0
            if !isSequenceKey {
                let key: String?
                switch lua_type(state, -2) {
                case LUA_TSTRING: key = string(state, at: -2)
                case LUA_TNUMBER:
                    key = lua_isinteger(state, -2) != 0 ? String(sloth_lua_tointeger(state, -2)) : String(sloth_lua_tonumber(state, -2))
                case LUA_TBOOLEAN: key = lua_toboolean(state, -2) != 0 ? "true" : "false"
                default: key = nil
                }
                let item = value(state, at: -1, depth: depth + 1)
                if let key, item != .nil_ { result.fields[key] = item }
            }
            sloth_lua_pop(state, 1)
        }
        return result
    }

    private static func push(_ state: OpaquePointer, _ value: LuaValue) {
        switch value {
        case .nil_: lua_pushnil(state)
        case .boolean(let flag): lua_pushboolean(state, flag ? 1 : 0)
        case .integer(let number): lua_pushinteger(state, number)
        case .number(let number): lua_pushnumber(state, number)
        case .string(let text): lua_pushlstring(state, text, text.utf8.count)
        case .table(let table):
            lua_createtable(state, Int32(table.array.count), Int32(table.fields.count))
            for (position, item) in table.array.enumerated() {
                push(state, item)
                lua_rawseti(state, -2, lua_Integer(position + 1))
            }
            for (key, item) in table.fields {
                lua_pushlstring(state, key, key.utf8.count)
                push(state, item)
                lua_rawset(state, -3)
            }
        }
    }
}

/// Stops a Lua state's code from another thread (checked by the count hook).
public struct LuaInterrupter: @unchecked Sendable {
    fileprivate let control: UnsafeMutablePointer<sloth_lua_ctl>?
    public func cancel() { if let control { sloth_lua_cancel(control) } }
}

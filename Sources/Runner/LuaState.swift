import CLua

/// An error a Swift host function hands back to Lua; Lua sees it as a normal `error(message)`.
public struct LuaHostError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// One Lua 5.4 interpreter (the only Swift file that imports CLua).
///
/// Swift enters Lua only through `lua_pcall`; host functions return a status to the C trampoline,
/// which raises from C, so a Lua error never unwinds a Swift frame. Every value Swift pushes is pushed
/// inside a protected frame (`withHostFrame`), with the stack checked at each level of nesting.
public final class LuaState {
    public typealias HostFunction = ([LuaValue]) throws(LuaHostError) -> [LuaValue]

    /// Bytes a run's state may allocate unless configured otherwise.
    public static let defaultMemoryLimit = 256 << 20
    /// After a state that held more than this, freed heap pages go back to the system.
    static let releaseThreshold = 16 << 20
    /// Where the runtime keeps its own table: in the registry, out of workflow code's reach.
    static let runtimeKey = "sloth.runtime"

    private let state: OpaquePointer
    private let control: ControlBlock
    private var hostFunctions: [HostFunctionBox] = []

    /// - Parameters:
    ///   - memoryLimit: bytes the state may allocate (0: unlimited).
    ///   - hookEvery: instructions between cancellation and deadline checks.
    public init(memoryLimit: Int = LuaState.defaultMemoryLimit, hookEvery: Int32 = 1000) throws(LuaError) {
        guard let state = sloth_lua_newstate(memoryLimit, hookEvery) else { throw .cannotCreateState }
        self.state = state
        control = ControlBlock(sloth_lua_getctl(state))
        // A failed init still runs deinit (every property is set), which closes the state.
        guard sloth_lua_openlibs(state) == LUA_OK else { throw .memoryLimit }
    }

    deinit {
        let peak = sloth_lua_mempeak(state)
        sloth_lua_close(state)
        if peak > Self.releaseThreshold { sloth_release_free_memory() }
    }

    /// Makes `body` callable from Lua as the global function `name`.
    public func register(global name: String, _ body: @escaping HostFunction) {
        let box = HostFunctionBox(body, name: name)
        hostFunctions.append(box)
        try? withHostFrame { state throws(LuaHostError) in
            sloth_lua_pushswiftfunction(state, LuaState.trampolineTarget, Unmanaged.passUnretained(box).toOpaque())
            lua_setglobal(state, name)
            return 0
        }
    }

    /// Makes each function callable as `table.name` (the global table is created or extended).
    public func register(table: String, _ functions: [String: HostFunction]) {
        let boxes = functions.map { HostFunctionBox($0.value, name: "\(Self.displayName(table)).\($0.key)") }
        hostFunctions += boxes
        install(table: table, zip(functions.keys, boxes).map { ($0, $1) })
    }

    /// Host functions that capture nothing of a run, boxed once and shared by every state.
    public final class SharedTable: @unchecked Sendable {
        fileprivate let boxes: [(name: String, box: HostFunctionBox)]
        /// `name` is what error messages call the table (`data.json_parse: ...`).
        public init(_ functions: [String: HostFunction], name: String) {
            boxes = functions.map { ($0.key, HostFunctionBox($0.value, name: "\(LuaState.displayName(name)).\($0.key)")) }
        }
    }

    /// Like `register(table:_:)`, without boxing each function again.
    public func register(table: String, _ shared: SharedTable) {
        install(table: table, shared.boxes)
    }

    private func install(table: String, _ boxes: [(name: String, box: HostFunctionBox)]) {
        try? withHostFrame { state throws(LuaHostError) in
            if lua_getglobal(state, table) != LUA_TTABLE {
                sloth_lua_pop(state, 1)
                sloth_lua_newtable(state)
            }
            for (name, box) in boxes {
                sloth_lua_pushswiftfunction(state, LuaState.trampolineTarget, Unmanaged.passUnretained(box).toOpaque())
                lua_setfield(state, -2, name)
            }
            lua_setglobal(state, table)
            return 0
        }
    }

    /// Sets a global; fails (nothing set) when the value is nested too deeply or memory runs out.
    public func setGlobal(_ name: String, _ value: LuaValue) throws(LuaError) {
        try withHostFrame { state throws(LuaHostError) in
            try Self.push(state, value, as: name)
            lua_setglobal(state, name)
            return 0
        }
    }

    /// Trusted bytecode by name, copied once into memory kept for the life of the process, so that
    /// every state can undump from it without a copy of its own.
    final class BytecodeParts: Sendable {
        nonisolated(unsafe) let table: UnsafeMutablePointer<sloth_parts>

        init(_ parts: [String: [UInt8]]) {
            let entries = UnsafeMutablePointer<sloth_part>.allocate(capacity: parts.count)
            for (index, (name, code)) in parts.enumerated() {
                let data = UnsafeMutablePointer<CChar>.allocate(capacity: code.count)
                code.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { data.initialize(from: $0.baseAddress!, count: code.count) } }
                entries[index] = sloth_part(name: strdup(name), data: data, size: code.count)
            }
            table = .allocate(capacity: 1)
            table.initialize(to: sloth_parts(count: parts.count, parts: entries))
        }
    }

    /// Sets the global `name` to `load_part(part) -> function`, undumping from `parts`.
    func setGlobal(_ name: String, loading parts: BytecodeParts) throws(LuaError) {
        try withHostFrame { state throws(LuaHostError) in
            sloth_lua_setpartloader(state, name, parts.table)
            return 0
        }
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
        try withHostFrame(taking: 1) { state throws(LuaHostError) in
            lua_setglobal(state, name)
            return 0
        }
    }

    /// Pushes the compiled chunk, or throws its syntax error (located at file:line).
    private func compile(_ source: String, chunkName: String, prefix: String = "@") throws(LuaError) {
        let source = Self.withoutShebang(source)
        let loaded = source.withCString { sloth_luaL_loadbuffer(state, $0, source.utf8.count, prefix + chunkName) }
        guard loaded == LUA_OK else {
            let (at, message, _) = LuaError.split(Self.string(state, at: -1) ?? "syntax error")
            throw loaded == LUA_ERRMEM ? .memoryLimit : .syntax(at, message: message)
        }
    }

    /// A `#!` first line (a script run as `sloth-runner file`) made a comment, as standalone `lua` skips
    /// it; the line count stays, so errors keep their lines.
    static func withoutShebang(_ source: String) -> String {
        source.hasPrefix("#") ? "--" + source.dropFirst() : source
    }

    /// Calls `function` of the runtime's table (which the bootstrap left in the registry) under a
    /// protected call.
    public func callRuntime(_ function: String, _ arguments: [LuaValue]) throws(LuaError) -> [LuaValue] {
        let base = lua_gettop(state)
        defer { lua_settop(state, base) }
        sloth_lua_pushtraceback(state)
        try withHostFrame { state throws(LuaHostError) in
            guard lua_getfield(state, sloth_lua_registryindex(), LuaState.runtimeKey) == LUA_TTABLE else {
                throw LuaHostError("the runtime is not loaded")
            }
            lua_pushlstring(state, function, function.utf8.count)
            lua_rawget(state, -2)
            sloth_lua_remove(state, -2)
            for argument in arguments { try Self.push(state, argument, as: "argument of \(function)") }
            return Int32(1 + arguments.count)
        }
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
        guard top > base + 1 else { return [] }
        do {
            return try ((base + 2)...top).map { index throws(LuaValue.TooDeep) in try Self.value(state, at: index) }
        } catch {
            throw .runtime(.init(file: nil, line: nil), message: "result \(error.description)", traceback: "")
        }
    }

    /// Runs `body` inside a protected frame, as a host function runs, with the top `arguments` values
    /// moved onto its stack: what it pushes is left on the stack (`body` returns how many values), and
    /// an error or running out of memory comes back as a throw.
    private func withHostFrame(taking arguments: Int32 = 0, _ body: (OpaquePointer) throws(LuaHostError) -> Int32) throws(LuaError) {
        try withoutActuallyEscaping(body) { (escapable) throws(LuaError) in
            let frame = FrameBox(escapable)
            let status = sloth_lua_host_frame(state, LuaState.frameTarget, Unmanaged.passUnretained(frame).toOpaque(), arguments)
            guard status == LUA_OK else {
                let text = Self.string(state, at: -1) ?? "out of memory"
                sloth_lua_pop(state, 1)
                if status == LUA_ERRMEM || text.hasPrefix("memory limit exceeded") { throw .memoryLimit }
                throw .runtime(.init(file: nil, line: nil), message: text, traceback: "")
            }
        }
    }

    private final class FrameBox {
        let body: (OpaquePointer) throws(LuaHostError) -> Int32
        init(_ body: @escaping (OpaquePointer) throws(LuaHostError) -> Int32) { self.body = body }
    }

    private static let frameTarget: sloth_lua_swift_fn = { state, context in
        guard let state, let context else { return SLOTH_LUA_RAISE }
        let frame = Unmanaged<FrameBox>.fromOpaque(context).takeUnretainedValue()
        do throws(LuaHostError) {
            return try frame.body(state)
        } catch {
            lua_pushlstring(state, error.message, error.message.utf8.count)
            return SLOTH_LUA_RAISE
        }
    }

    /// Bytes the state currently holds.
    public var memoryInUse: Int { sloth_lua_memused(state) }

    /// Lua code running past this monotonic millisecond raises "timed out" (0: no deadline).
    public func setDeadline(monotonicMillis: Int64) {
        sloth_lua_set_deadline(state, monotonicMillis)
    }

    /// A handle another thread may use to stop the Lua code at its next hook check; safe to use after
    /// the state is gone (it keeps the control block alive).
    public var interrupter: LuaInterrupter { LuaInterrupter(control: control) }

    public static func monotonicMillis() -> Int64 { sloth_monotonic_ms() }

    /// Names the Lua that compiles bytecode (headers and library), so cached bytecode of another Lua is never loaded.
    public static let versionTag = "\(String(cString: sloth_lua_release()).replacingSpaces)-\(Int(sloth_lua_library_version()))"

    // MARK: the bridge

    fileprivate final class HostFunctionBox {
        let body: HostFunction
        /// `table.function`, for errors about its arguments.
        let name: String
        init(_ body: @escaping HostFunction, name: String) { (self.body, self.name) = (body, name) }
    }

    /// The runtime's private tables are named for what workflows call them.
    fileprivate static func displayName(_ table: String) -> String {
        table.hasPrefix("__") ? String(table.dropFirst(2)) : table
    }

    /// Called by the C trampoline: never raises; returns a result count or SLOTH_LUA_RAISE with the message on top.
    private static let trampolineTarget: sloth_lua_swift_fn = { state, context in
        guard let state, let context else { return SLOTH_LUA_RAISE }
        let box = Unmanaged<HostFunctionBox>.fromOpaque(context).takeUnretainedValue()
        do throws(LuaHostError) {
            let arguments: [LuaValue]
            do throws(LuaValue.TooDeep) {
                arguments = try (0..<lua_gettop(state)).map { index throws(LuaValue.TooDeep) in try LuaState.value(state, at: index + 1) }
            } catch {
                throw LuaHostError("\(box.name): argument \(error.description)")
            }
            let results = try box.body(arguments)
            lua_settop(state, 0)
            for result in results { try LuaState.push(state, result, as: "\(box.name): result") }
            return Int32(results.count)
        } catch {
            lua_settop(state, 0)
            lua_pushlstring(state, error.message, error.message.utf8.count)
            return SLOTH_LUA_RAISE
        }
    }

    private static func string(_ state: OpaquePointer, at index: Int32) -> String? {
        var length = 0
        guard lua_type(state, index) == LUA_TSTRING, let bytes = lua_tolstring(state, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    private static func value(_ state: OpaquePointer, at index: Int32) throws(LuaValue.TooDeep) -> LuaValue {
        var budget = LuaValue.maxValues
        return try value(state, at: index, depth: 0, budget: &budget)
    }

    private static func value(_ state: OpaquePointer, at index: Int32, depth: Int, budget: inout Int) throws(LuaValue.TooDeep) -> LuaValue {
        budget -= 1
        guard budget >= 0 else { throw LuaValue.TooDeep(tooMany: true) }
        switch lua_type(state, index) {
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(state, index) != 0)
        case LUA_TNUMBER:
            return lua_isinteger(state, index) != 0 ? .integer(sloth_lua_tointeger(state, index)) : .number(sloth_lua_tonumber(state, index))
        case LUA_TSTRING: return string(state, at: index).map(LuaValue.string) ?? .nil_
        case LUA_TTABLE:
            guard depth < LuaValue.maxNesting, lua_checkstack(state, 4) != 0 else { throw LuaValue.TooDeep() }
            return .table(try table(state, at: index, depth: depth, budget: &budget))
        default: return .nil_
        }
    }

    /// Reads a table with raw access only (no metamethods may run from Swift).
    private static func table(_ state: OpaquePointer, at index: Int32, depth: Int, budget: inout Int) throws(LuaValue.TooDeep) -> LuaTable {
        let absolute = lua_absindex(state, index)
        var result = LuaTable()
        let length = lua_rawlen(state, absolute)
        if length > 0 {
            for position in 1...length {
                lua_rawgeti(state, absolute, lua_Integer(position))
                defer { sloth_lua_pop(state, 1) }
                result.array.append(try value(state, at: -1, depth: depth + 1, budget: &budget))
            }
        }
        lua_pushnil(state)
        while lua_next(state, absolute) != 0 {
            defer { sloth_lua_pop(state, 1) }
            let isSequenceKey = length > 0 && lua_isinteger(state, -2) != 0 && (1...Int64(length)).contains(sloth_lua_tointeger(state, -2))
            if isSequenceKey { continue }
            let key: String?
            switch lua_type(state, -2) {
            case LUA_TSTRING: key = string(state, at: -2)
            case LUA_TNUMBER:
                key = lua_isinteger(state, -2) != 0 ? String(sloth_lua_tointeger(state, -2)) : String(sloth_lua_tonumber(state, -2))
            case LUA_TBOOLEAN: key = lua_toboolean(state, -2) != 0 ? "true" : "false"
            default: key = nil
            }
            let item = try value(state, at: -1, depth: depth + 1, budget: &budget)
            if let key, item != .nil_ { result.fields[key] = item }
        }
        return result
    }

    /// `push`, with a too-deep value reported as a host error naming `what`.
    private static func push(_ state: OpaquePointer, _ value: LuaValue, as what: String) throws(LuaHostError) {
        do {
            try push(state, value)
        } catch {
            throw LuaHostError("\(what) \(error.description)")
        }
    }

    /// Called only inside a protected frame (a host function or `withHostFrame`): allocation failures raise there.
    private static func push(_ state: OpaquePointer, _ value: LuaValue, depth: Int = 0) throws(LuaValue.TooDeep) {
        switch value {
        case .nil_: lua_pushnil(state)
        case .boolean(let flag): lua_pushboolean(state, flag ? 1 : 0)
        case .integer(let number): lua_pushinteger(state, number)
        case .number(let number): lua_pushnumber(state, number)
        case .string(let text): lua_pushlstring(state, text, text.utf8.count)
        case .table(let table):
            guard depth < LuaValue.maxNesting, lua_checkstack(state, 4) != 0 else { throw LuaValue.TooDeep() }
            lua_createtable(state, Int32(clamping: table.array.count), Int32(clamping: table.fields.count))
            for (position, item) in table.array.enumerated() {
                try push(state, item, depth: depth + 1)
                lua_rawseti(state, -2, lua_Integer(position + 1))
            }
            for (key, item) in table.fields {
                lua_pushlstring(state, key, key.utf8.count)
                try push(state, item, depth: depth + 1)
                lua_rawset(state, -3)
            }
        }
    }
}

/// Owns a state's control block (cancel flag, deadline, memory counters), which outlives the state
/// for as long as a cancelling thread holds it.
private final class ControlBlock: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<sloth_lua_ctl>
    init(_ pointer: UnsafeMutablePointer<sloth_lua_ctl>) { self.pointer = pointer }
    deinit { sloth_lua_ctl_free(pointer) }
}

/// Stops a Lua state's code from another thread (checked by the count hook).
public struct LuaInterrupter: @unchecked Sendable {
    fileprivate let control: ControlBlock
    public func cancel() { sloth_lua_cancel(control.pointer) }
}

private extension String {
    var replacingSpaces: String { String(map { $0 == " " ? "_" : $0 }) }
}

import CLua

/// A value crossing between Lua and Swift.
public enum LuaValue: Equatable, Sendable {
    case nil_
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
}

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
    ///   - hookEvery: instructions between cancellation checks.
    public init(memoryLimit: Int = 256 << 20, hookEvery: Int32 = 1000) throws(LuaError) {
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
        let box = HostFunctionBox(body)
        hostFunctions.append(box)
        sloth_lua_pushswiftfunction(state, LuaState.trampolineTarget, Unmanaged.passUnretained(box).toOpaque())
        lua_setglobal(state, name)
    }

    /// Loads and runs a chunk under a protected call; `chunkName` is what Lua's messages call the file.
    @discardableResult
    public func run(_ source: String, chunkName: String) throws(LuaError) -> [LuaValue] {
        let base = lua_gettop(state)
        defer { lua_settop(state, base) }
        sloth_lua_pushtraceback(state)
        let loaded = source.withCString { sloth_luaL_loadbuffer(state, $0, source.utf8.count, "@" + chunkName) }
        guard loaded == LUA_OK else {
            let (at, message, _) = LuaError.split(string(at: -1) ?? "syntax error")
            throw loaded == LUA_ERRMEM ? .memoryLimit : .syntax(at, message: message)
        }
        let status = sloth_lua_pcall(state, 0, LUA_MULTRET, base + 1)
        guard status == LUA_OK else {
            let text = string(at: -1) ?? "error"
            if status == LUA_ERRMEM || text.hasPrefix("memory limit exceeded") { throw .memoryLimit }
            let (at, message, traceback) = LuaError.split(text)
            if message == "run cancelled" { throw .cancelled }
            throw .runtime(at, message: message, traceback: traceback)
        }
        let top = lua_gettop(state)
        return top > base + 1 ? ((base + 2)...top).map { value(at: $0) } : []
    }

    /// Bytes the state currently holds.
    public var memoryInUse: Int { sloth_lua_memused(state) }

    // MARK: the bridge

    private final class HostFunctionBox {
        let body: HostFunction
        init(_ body: @escaping HostFunction) { self.body = body }
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

    private func string(at index: Int32) -> String? { Self.string(state, at: index) }
    private func value(at index: Int32) -> LuaValue { Self.value(state, at: index) }

    private static func string(_ state: OpaquePointer, at index: Int32) -> String? {
        var length = 0
        guard lua_type(state, index) == LUA_TSTRING, let bytes = lua_tolstring(state, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    private static func value(_ state: OpaquePointer, at index: Int32) -> LuaValue {
        switch lua_type(state, index) {
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(state, index) != 0)
        case LUA_TNUMBER:
            return lua_isinteger(state, index) != 0 ? .integer(sloth_lua_tointeger(state, index)) : .number(sloth_lua_tonumber(state, index))
        case LUA_TSTRING: return string(state, at: index).map(LuaValue.string) ?? .nil_
        default: return .nil_
        }
    }

    private static func push(_ state: OpaquePointer, _ value: LuaValue) {
        switch value {
        case .nil_: lua_pushnil(state)
        case .boolean(let flag): lua_pushboolean(state, flag ? 1 : 0)
        case .integer(let number): lua_pushinteger(state, number)
        case .number(let number): lua_pushnumber(state, number)
        case .string(let text): lua_pushlstring(state, text, text.utf8.count)
        }
    }
}

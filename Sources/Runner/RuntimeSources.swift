/// The Lua half of the runtime (Sources/Runner/Lua), embedded in the binary at build time.
enum RuntimeSources {
    static let parts: [String: [UInt8]] = [
        "runtime": PackageResources.runtime_lua, "scheduler": PackageResources.scheduler_lua, "dsl": PackageResources.dsl_lua,
        "executor": PackageResources.executor_lua, "modules": PackageResources.modules_lua,
        "infra_test": PackageResources.infra_test_lua,
    ]

    /// Loads the parts and leaves the runtime table in the global `__sloth_runtime`.
    static func install(in lua: LuaState) throws(LuaError) {
        lua.setGlobal("__sloth_sources", .table(LuaTable(fields: parts.mapValues { .string(String(decoding: $0, as: UTF8.self)) })))
        try lua.run("""
            local host, sources = __sloth, __sloth_sources
            __sloth, __sloth_sources = nil, nil
            local function load_part(name, ...)
              return assert(load(sources[name], "=runtime/" .. name .. ".lua"))(...)
            end
            __sloth_runtime = load_part("runtime", host, load_part)
            """, chunkName: "runtime/bootstrap")
    }
}

import Crypto
import Foundation

/// The Lua half of the runtime (Sources/Runner/Lua), embedded in the binary at build time.
///
/// Compiling it costs more than a whole trivial run, so each part's bytecode is kept in the state
/// directory's cache under a digest of all the sources, and later runs (and later processes) load that.
enum RuntimeSources {
    static let parts: [String: [UInt8]] = [
        "runtime": PackageResources.runtime_lua, "scheduler": PackageResources.scheduler_lua, "dsl": PackageResources.dsl_lua,
        "executor": PackageResources.executor_lua, "modules": PackageResources.modules_lua,
        "infra_test": PackageResources.infra_test_lua,
    ]

    /// Changes whenever any part changes, so a stale cache entry is never used.
    static let digest: String = {
        var hash = SHA256()
        for name in parts.keys.sorted() {
            hash.update(data: Array(name.utf8))
            hash.update(data: parts[name]!)
        }
        return hash.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
    }()

    /// Loads the parts and leaves the runtime table in the global `__sloth_runtime`.
    static func install(in lua: LuaState, cacheDirectory: String?) throws(LuaError) {
        lua.setGlobal("__sloth_sources", .table(LuaTable(fields: parts.mapValues { .string(String(decoding: $0, as: UTF8.self)) })))
        if let cacheDirectory, (try? FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)) != nil {
            lua.setGlobal("__sloth_cache", .string("\(cacheDirectory)/runtime-\(digest)-"))
        }
        try lua.run("""
            local host, sources, cache = __sloth, __sloth_sources, __sloth_cache
            __sloth, __sloth_sources, __sloth_cache = nil, nil, nil
            local load, loadfile, open, rename, dump = load, loadfile, io.open, os.rename, string.dump
            local function compile(name)
              local path = cache and (cache .. name .. ".luac")
              local chunk = path and loadfile(path, "b")
              if chunk then return chunk end
              chunk = assert(load(sources[name], "=runtime/" .. name .. ".lua", "t"))
              if path then
                local temporary = path .. "." .. tostring(math.random(1 << 30))
                local file = open(temporary, "wb")
                if file then
                  file:write(dump(chunk))
                  file:close()
                  rename(temporary, path)
                end
              end
              return chunk
            end
            local function load_part(name, ...) return compile(name)(...) end
            __sloth_runtime = load_part("runtime", host, load_part)
            """, chunkName: "runtime/bootstrap")
    }
}

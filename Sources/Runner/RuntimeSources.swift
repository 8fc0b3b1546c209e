import Crypto
import Foundation
import Synchronization

/// The Lua half of the runtime (Sources/Runner/Lua), embedded in the binary at build time.
///
/// Compiling it costs more than a whole trivial run, so it is compiled once per process (or read from
/// the state directory's cache, kept under a digest of all the sources, so that short-lived `sloth`
/// processes skip compiling too). Each run gets the bytecode as strings and undumps only the parts it uses.
enum RuntimeSources {
    static let parts: [String: [UInt8]] = [
        "runtime": PackageResources.runtime_lua, "scheduler": PackageResources.scheduler_lua, "dsl": PackageResources.dsl_lua,
        "executor": PackageResources.executor_lua, "modules": PackageResources.modules_lua,
        "infra_test": PackageResources.infra_test_lua,
    ]

    /// Hands the bytecode and the host table to the runtime part; leaves the runtime in `__sloth_runtime`.
    static let bootstrap = """
        local host, bytecode, load = __sloth, __sloth_bytecode, load
        __sloth, __sloth_bytecode = nil, nil
        local function load_part(name, ...)
          return assert(load(bytecode[name], "=runtime/" .. name .. ".lua", "b"))(...)
        end
        __sloth_runtime = load_part("runtime", host, load_part)
        """

    /// Changes whenever any part changes, so a stale cache entry is never used.
    static let digest: String = {
        var hash = SHA256()
        for name in parts.keys.sorted() {
            hash.update(data: Array(name.utf8))
            hash.update(data: parts[name]!)
        }
        hash.update(data: Array(bootstrap.utf8))
        return hash.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
    }()

    private static let compiled = Mutex<[String: [UInt8]]?>(nil)

    /// Loads the runtime into a fresh state and leaves its table in the global `__sloth_runtime`.
    static func install(in lua: LuaState, cacheDirectory: String?) throws(LuaError) {
        var bytecode = try self.bytecode(cacheDirectory: cacheDirectory)
        let bootstrapCode = bytecode.removeValue(forKey: "bootstrap") ?? []
        lua.setGlobal("__sloth_bytecode", bytes: bytecode)
        try lua.runTrusted(bytecode: bootstrapCode, chunkName: "runtime/bootstrap")
    }

    /// Every part's bytecode: from memory, else the cache file, else compiled (and cached).
    static func bytecode(cacheDirectory: String?) throws(LuaError) -> [String: [UInt8]] {
        try compiled.withLock { (memory: inout [String: [UInt8]]?) throws(LuaError) -> [String: [UInt8]] in
            if let memory { return memory }
            var all = parts
            all["bootstrap"] = Array(bootstrap.utf8)
            var result: [String: [UInt8]] = [:]
            for (name, source) in all {
                let path = cacheDirectory.map { "\($0)/runtime-\(digest)-\(name).luac" }
                if let path, let cached = FileManager.default.contents(atPath: path) {
                    result[name] = Array(cached)
                    continue
                }
                let code = try LuaState.bytecode(compiling: String(decoding: source, as: UTF8.self), chunkName: "runtime/\(name).lua")
                if let path, let cacheDirectory { store(code, at: path, directory: cacheDirectory) }
                result[name] = code
            }
            memory = result
            return result
        }
    }

    /// Written under a temporary name then renamed, so a concurrent process never reads half a file.
    private static func store(_ code: [UInt8], at path: String, directory: String) {
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil else { return }
        let temporary = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(code)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}

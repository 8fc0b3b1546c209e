import Crypto
import Foundation
import Synchronization

/// The Lua half of the runtime (Sources/Runner/Lua), embedded in the binary at build time.
///
/// Compiling it costs more than a whole trivial run, so it is compiled once per process (or read from
/// the state directory's cache, kept under a digest of all the sources, so that short-lived `sloth`
/// processes skip compiling too). Each run undumps only the parts it uses, from the process's one copy.
enum RuntimeSources {
    static let parts: [String: [UInt8]] = [
        "runtime": PackageResources.runtime_lua, "scheduler": PackageResources.scheduler_lua, "dsl": PackageResources.dsl_lua,
        "executor": PackageResources.executor_lua, "modules": PackageResources.modules_lua,
        "infra_test": PackageResources.infra_test_lua, "exec": PackageResources.exec_lua, "http": PackageResources.http_lua,
        "goroutine": PackageResources.goroutine_lua, "goroutine_sync": PackageResources.goroutine_sync_lua,
        "cli": PackageResources.cli_lua, "system": PackageResources.system_lua, "git": PackageResources.git_lua,
        "cloud": PackageResources.cloud_lua, "validate": PackageResources.validate_lua, "database": PackageResources.database_lua,
        "monitor": PackageResources.monitor_lua, "notify": PackageResources.notify_lua, "reliability": PackageResources.reliability_lua,
    ]

    /// Hands the part loader and the host table to the runtime part; leaves the runtime in the registry,
    /// where workflow code cannot reach it (the runtime removes `debug.getregistry`).
    static let bootstrap = """
        local host, load_bytecode, registry = __sloth, __sloth_load_part, debug.getregistry()
        __sloth, __sloth_load_part = nil, nil
        local function load_part(name, ...)
          return load_bytecode(name)(...)
        end
        registry["\(LuaState.runtimeKey)"] = load_part("runtime", host, load_part)
        """

    /// Changes whenever any part or the Lua that compiles them changes, so a stale cache entry is never used.
    static let digest: String = {
        var hash = SHA256()
        for name in parts.keys.sorted() {
            hash.update(data: Array(name.utf8))
            hash.update(data: parts[name]!)
        }
        hash.update(data: Array(bootstrap.utf8))
        hash.update(data: Array(LuaState.versionTag.utf8))
        return hex(hash.finalize().prefix(8))
    }()

    /// The bootstrap's bytecode and the parts it loads, once per process.
    private struct Compiled: Sendable {
        let bootstrap: [UInt8]
        let parts: LuaState.BytecodeParts
    }
    private static let compiled = Mutex<Compiled?>(nil)

    /// Loads the runtime into a fresh state and leaves its table in the registry.
    static func install(in lua: LuaState, cacheDirectory: String?) throws(LuaError) {
        let runtime = try self.runtime(cacheDirectory: cacheDirectory)
        try lua.setGlobal("__sloth_load_part", loading: runtime.parts)
        try lua.runTrusted(bytecode: runtime.bootstrap, chunkName: "runtime/bootstrap")
    }

    private static func runtime(cacheDirectory: String?) throws(LuaError) -> Compiled {
        try compiled.withLock { (memory: inout Compiled?) throws(LuaError) -> Compiled in
            if let memory { return memory }
            var bytecode = try self.bytecode(cacheDirectory: cacheDirectory)
            let bootstrap = bytecode.removeValue(forKey: "bootstrap") ?? []
            let result = Compiled(bootstrap: bootstrap, parts: LuaState.BytecodeParts(bytecode))
            memory = result
            return result
        }
    }

    /// Every part's bytecode: from the cache file if it passes its check, else compiled (and cached).
    /// One file for all parts, so a short-lived `sloth` opens and checks one file, not one per part.
    private static func bytecode(cacheDirectory: String?) throws(LuaError) -> [String: [UInt8]] {
        let path = cacheDirectory.map { "\($0)/runtime-\(LuaState.versionTag)-\(digest).luac" }
        if let path, let cached = CacheEntry.read(path), let archived = PartsArchive.decode(cached) { return archived }
        var all = parts
        all["bootstrap"] = Array(bootstrap.utf8)
        var result: [String: [UInt8]] = [:]
        for (name, source) in all {
            result[name] = try LuaState.bytecode(compiling: String(decoding: source, as: UTF8.self), chunkName: "runtime/\(name).lua")
        }
        if let path, let cacheDirectory {
            CacheEntry.write(PartsArchive.encode(result), at: path, directory: cacheDirectory)
            CacheEntry.removeOthers(in: cacheDirectory, keeping: path)
        }
        return result
    }

    /// Not `String(format:)`: its first call costs a short-lived `sloth` more than the hashing.
    fileprivate static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}

/// One cached chunk: a magic line, the SHA-256 of the bytecode, the bytecode. A file that is short,
/// foreign or damaged fails the check and is compiled again, so a bad cache never reaches the VM.
enum CacheEntry {
    static let magic = Array("slothd-luac 1\n".utf8)

    static func read(_ path: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = Array(data)
        let header = magic.count + SHA256.byteCount
        guard bytes.count > header, Array(bytes[..<magic.count]) == magic else { return nil }
        let code = Array(bytes[header...])
        guard Array(SHA256.hash(data: code)) == Array(bytes[magic.count..<header]) else { return nil }
        return code
    }

    /// Written under a temporary name then renamed, so a concurrent process never reads half a file.
    static func write(_ code: [UInt8], at path: String, directory: String) {
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil else { return }
        let temporary = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let contents = magic + Array(SHA256.hash(data: code)) + code
        guard FileManager.default.createFile(atPath: temporary, contents: Data(contents)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    /// Earlier builds' runtime caches (another digest or Lua version) are never read again.
    static func removeOthers(in directory: String, keeping path: String) {
        let kept = (path as NSString).lastPathComponent
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix("runtime-") && name.hasSuffix(".luac") && name != kept {
            unlink("\(directory)/\(name)")
        }
    }
}

/// The parts in one cache payload: per part, its name's length (one byte), the name, the bytecode's
/// length (four bytes, little-endian) and the bytecode. Decoding checks every length against what is left.
enum PartsArchive {
    static func encode(_ parts: [String: [UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for name in parts.keys.sorted() {
            let code = parts[name]!
            bytes.append(UInt8(name.utf8.count))
            bytes += Array(name.utf8)
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: code.count >> ($0 * 8)) }
            bytes += code
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> [String: [UInt8]]? {
        var parts: [String: [UInt8]] = [:]
        var cursor = 0
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count <= bytes.count - cursor else { return nil }
            defer { cursor += count }
            return bytes[cursor..<cursor + count]
        }
        while cursor < bytes.count {
            guard let length = take(1)?.first, let name = take(Int(length)), let size = take(4) else { return nil }
            let count = size.reversed().reduce(0) { $0 << 8 | Int($1) }
            guard let code = take(count) else { return nil }
            parts[String(decoding: name, as: UTF8.self)] = Array(code)
        }
        return parts
    }
}

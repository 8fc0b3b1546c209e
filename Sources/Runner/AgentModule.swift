import Catalog
import Foundation

/// What this host is: what an agent registers with, and what `facts.*` answers with no agent named.
public enum LocalFacts {
    public static func read() -> [String: String] {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return ["os": field(names.sysname).lowercased(), "arch": field(names.machine), "kernel": field(names.release),
                "hostname": field(names.nodename), "cpus": String(ProcessInfo.processInfo.activeProcessorCount),
                "memory_bytes": String(ProcessInfo.processInfo.physicalMemory)]
    }
}

/// `sloth.agent.list()`, `sloth.agent.get(name)` and `facts.*` (SPEC section 8): the agents the master
/// knows, and the facts each registered with (this host's own when no agent is named).
enum AgentModule {
    static func agentFunctions(_ database: CatalogDatabase) -> [String: LuaState.HostFunction] {
        let store = AgentStore(database: database)
        return [
            "list": { _ in
                do { return [.table(LuaTable(array: try store.list().map(table)))] } catch { return HostResult.failure("sloth.agent.list: \(error)") }
            },
            "get": { args in
                guard let name = args.at(0).string ?? args.at(0)["name"].string else { return HostResult.failure("sloth.agent.get: a name is required") }
                do { return [table(try store.get(name))] } catch { return HostResult.failure("sloth.agent.get: \(error)") }
            },
        ]
    }

    /// `facts.get_all({agent = "web-01"})` and its parts; `facts.gather()` and the parts without an
    /// agent read this host.
    static func factFunctions(_ database: CatalogDatabase) -> [String: LuaState.HostFunction] {
        let store = AgentStore(database: database)
        let parts: [String: [String]] = [
            "all": ["os", "arch", "kernel", "hostname", "cpus", "memory_bytes"], "platform": ["os", "arch", "kernel", "hostname"],
            "memory": ["memory_bytes"], "cpu": ["cpus"],
        ]
        func facts(_ part: String, _ args: [LuaValue]) -> [LuaValue] {
            let agent = args.at(0)["agent"].string ?? args.at(0).string
            let known: [String: String]
            if let agent {
                do { known = try store.get(agent).facts } catch { return HostResult.failure("facts.get_\(part): \(error)") }
            } else {
                known = LocalFacts.read()
            }
            var fields: [String: LuaValue] = [:]
            for key in parts[part] ?? [] {
                guard let value = known[key] else { continue }
                fields[key] = Int64(value).map(LuaValue.integer) ?? .string(value)
            }
            if let agent { fields["agent"] = .string(agent) }
            return [.table(LuaTable(fields: fields))]
        }
        var functions: [String: LuaState.HostFunction] = [:]
        for part in parts.keys {
            functions["get_\(part)"] = { args in facts(part, args) }
        }
        functions["gather"] = { args in facts("all", args) }
        functions["cpu"] = { args in facts("cpu", args) }
        functions["memory"] = { args in facts("memory", args) }
        for part in ["disk", "network", "package", "service"] {
            functions["get_\(part)"] = { _ in HostResult.failure("facts.get_\(part): agents register os, arch, kernel, hostname, cpus and memory only") }
        }
        return functions
    }

    private static func table(_ agent: AgentStore.Agent) -> LuaValue {
        var fields: [String: LuaValue] = [
            "name": .string(agent.name), "status": .string(agent.status), "tags": .table(LuaTable(fields: agent.tags.mapValues(LuaValue.string))),
            "facts": .table(LuaTable(fields: agent.facts.mapValues(LuaValue.string))), "last_seen": .integer(agent.lastSeenAt / 1000),
        ]
        if let address = agent.address { fields["address"] = .string(address) }
        if let version = agent.version { fields["version"] = .string(version) }
        return .table(LuaTable(fields: fields))
    }
}

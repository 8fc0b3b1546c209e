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

/// `sloth.agent.list()`, `sloth.agent.get(name)` (SPEC section 8): the agents the master knows and
/// the facts each registered with; and this host's facts for the `facts` module.
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

    /// This host's readings for the `facts` module (system.lua shapes them and sends `{agent = ...}`
    /// calls to that agent as a task).
    static func factFunctions() -> [String: LuaState.HostFunction] {
        let readings: [String: @Sendable () -> LuaValue] = [
            "platform": HostFacts.platform, "memory": HostFacts.memory, "cpu": HostFacts.cpu, "uptime": HostFacts.uptime,
            "disks": HostFacts.disks, "network": HostFacts.network,
        ]
        return readings.mapValues { reading in { _ in [reading()] } }
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

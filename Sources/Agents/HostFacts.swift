import AgentWire
import Foundation

/// What an agent tells the master about its host when it registers.
enum HostFacts {
    static func read() -> Slothd_Agent_V1_Facts {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return .with {
            $0.os = field(names.sysname).lowercased()
            $0.arch = field(names.machine)
            $0.kernel = field(names.release)
            $0.hostname = field(names.nodename)
            $0.cpus = Int32(ProcessInfo.processInfo.activeProcessorCount)
            $0.memoryBytes = Int64(ProcessInfo.processInfo.physicalMemory)
        }
    }
}

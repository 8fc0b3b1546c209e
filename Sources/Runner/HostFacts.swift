import Foundation

/// This host as `facts.*` reads it: /proc, /etc/os-release, statvfs and getifaddrs, no programs run.
/// Each reading is a Lua table; sizes are bytes.
enum HostFacts {
    static func platform() -> LuaValue {
        let local = LocalFacts.read(), release = osRelease()
        var fields: [String: LuaValue] = ["os": .string(local["os"] ?? "linux"), "arch": .string(local["arch"] ?? ""),
                                          "kernel": .string(local["kernel"] ?? ""), "hostname": .string(local["hostname"] ?? "")]
        for (field, key) in [("distribution", "ID"), ("distribution_version", "VERSION_ID"), ("pretty_name", "PRETTY_NAME")] {
            if let value = release[key] { fields[field] = .string(value) }
        }
        return .table(LuaTable(fields: fields))
    }

    static func memory() -> LuaValue {
        let info = keyed(file: "/proc/meminfo", separator: ":").mapValues { Int64($0.split(separator: " ").first ?? "").map { $0 * 1024 } ?? 0 }
        let total = info["MemTotal"] ?? Int64(ProcessInfo.processInfo.physicalMemory)
        let available = info["MemAvailable"] ?? info["MemFree"] ?? 0
        let swapTotal = info["SwapTotal"] ?? 0, swapFree = info["SwapFree"] ?? 0
        return .table(LuaTable(fields: [
            "total": .integer(total), "available": .integer(available), "free": .integer(info["MemFree"] ?? 0),
            "used": .integer(total - available), "used_percent": .number(percent(total - available, of: total)),
            "swap_total": .integer(swapTotal), "swap_free": .integer(swapFree), "swap_used": .integer(swapTotal - swapFree),
        ]))
    }

    static func cpu() -> LuaValue {
        var load = [Double](repeating: 0, count: 3)
        _ = getloadavg(&load, 3)
        var fields: [String: LuaValue] = ["cores": .integer(Int64(ProcessInfo.processInfo.activeProcessorCount)),
                                          "load1": .number(load[0]), "load5": .number(load[1]), "load15": .number(load[2])]
        if let model = keyed(file: "/proc/cpuinfo", separator: ":")["model name"] { fields["model"] = .string(model) }
        return .table(LuaTable(fields: fields))
    }

    static func uptime() -> LuaValue {
        let text = (try? String(contentsOfFile: "/proc/uptime", encoding: .utf8)) ?? ""
        return Double(text.split(separator: " ").first ?? "").map { .integer(Int64($0)) } ?? .nil_
    }

    /// Mounted filesystems backed by storage (a device path, or overlay/zfs/network filesystems), as df counts them.
    static func disks() -> LuaValue {
        let lines = ((try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? "").split(separator: "\n")
        var seen = Set<String>(), list: [LuaValue] = []
        for line in lines {
            let parts = line.split(separator: " ").map { unescapeMount(String($0)) }
            guard parts.count >= 3, parts[0].hasPrefix("/") || storageTypes.contains(parts[2]), seen.insert(parts[1]).inserted else { continue }
            var stats = statvfs()
            guard statvfs(parts[1], &stats) == 0, stats.f_blocks > 0 else { continue }
            let unit = Int64(stats.f_frsize)
            let total = Int64(stats.f_blocks) * unit, free = Int64(stats.f_bfree) * unit, available = Int64(stats.f_bavail) * unit
            list.append(.table(LuaTable(fields: [
                "mount": .string(parts[1]), "device": .string(parts[0]), "fstype": .string(parts[2]), "total": .integer(total),
                "used": .integer(total - free), "free": .integer(free), "available": .integer(available),
                "used_percent": .number(percent(total - free, of: total - free + available)),
            ])))
        }
        return .table(LuaTable(array: list))
    }

    private static let storageTypes: Set<String> = ["overlay", "zfs", "btrfs", "nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "9p", "virtiofs"]

    /// Interfaces with their addresses (CIDR), state and hardware address.
    static func network() -> LuaValue {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return .table(LuaTable()) }
        defer { freeifaddrs(first) }
        var order: [String] = [], flags: [String: UInt32] = [:], addresses: [String: [String]] = [:]
        var cursor = first
        while let entry = cursor?.pointee {
            defer { cursor = entry.ifa_next }
            let name = String(cString: entry.ifa_name)
            if flags[name] == nil { order.append(name) }
            flags[name] = entry.ifa_flags
            if let address = cidr(entry) { addresses[name, default: []].append(address) }
        }
        return .table(LuaTable(array: order.map { name in
            let flag = flags[name] ?? 0, found = addresses[name] ?? []
            var fields: [String: LuaValue] = [
                "name": .string(name), "up": .boolean(flag & UInt32(IFF_UP) != 0),
                "loopback": .boolean(flag & UInt32(IFF_LOOPBACK) != 0),
                "addresses": .table(LuaTable(array: found.map(LuaValue.string))),
                "ipv4": .table(LuaTable(array: found.filter { !$0.contains(":") }.map(LuaValue.string))),
                "ipv6": .table(LuaTable(array: found.filter { $0.contains(":") }.map(LuaValue.string))),
            ]
            if let mac = try? String(contentsOfFile: "/sys/class/net/\(name)/address", encoding: .utf8) {
                fields["mac"] = .string(mac.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return .table(LuaTable(fields: fields))
        }))
    }

    private static func cidr(_ entry: ifaddrs) -> String? {
        guard let address = entry.ifa_addr, [AF_INET, AF_INET6].contains(Int32(address.pointee.sa_family)) else { return nil }
        let length = socklen_t(address.pointee.sa_family == sa_family_t(AF_INET) ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: "%").first.map(String.init) ?? ""
        guard let mask = entry.ifa_netmask else { return text }
        let bytes = address.pointee.sa_family == sa_family_t(AF_INET)
            ? mask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
            : mask.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
        return "\(text)/\(bytes.reduce(0) { $0 + $1.nonzeroBitCount })"
    }

    /// /proc/mounts writes a space in a path as \040 (and tab, newline, backslash likewise).
    private static func unescapeMount(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var result = "", rest = Substring(text)
        while let slash = rest.firstIndex(of: "\\") {
            result += rest[..<slash]
            let code = rest[rest.index(after: slash)...].prefix(3)
            if code.count == 3, let value = UInt8(code, radix: 8) {
                result.append(Character(UnicodeScalar(value)))
                rest = rest[rest.index(slash, offsetBy: 4)...]
            } else {
                result.append("\\")
                rest = rest[rest.index(after: slash)...]
            }
        }
        return result + rest
    }

    private static func osRelease() -> [String: String] {
        keyed(file: "/etc/os-release", separator: "=").mapValues { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
    }

    /// `key<separator>value` lines of a file, the first of each key kept, both sides trimmed.
    private static func keyed(file: String, separator: Character) -> [String: String] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let split = line.firstIndex(of: separator) else { continue }
            let key = line[..<split].trimmingCharacters(in: .whitespaces)
            if values[key] == nil { values[key] = line[line.index(after: split)...].trimmingCharacters(in: .whitespaces) }
        }
        return values
    }

    private static func percent(_ part: Int64, of whole: Int64) -> Double {
        whole > 0 ? (Double(part) / Double(whole) * 1000).rounded() / 10 : 0
    }
}

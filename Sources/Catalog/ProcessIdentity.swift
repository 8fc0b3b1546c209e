import Foundation

/// Names a process across pid reuse and reboots: boot id, pid and the process's start time (in clock
/// ticks since boot). A run started outside slothd records its owner, so a starting slothd interrupts
/// only runs whose owner is gone.
public enum ProcessIdentity {
    public static let bootID: String = {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    public static let current = "\(bootID)/\(getpid())/\(startTime(of: getpid()) ?? 0)"

    /// Whether the process an identity names still runs.
    public static func isAlive(_ identity: String) -> Bool {
        let parts = identity.split(separator: "/")
        guard parts.count == 3, String(parts[0]) == bootID, let pid = pid_t(parts[1]), let ticks = UInt64(parts[2]) else { return false }
        return startTime(of: pid) == ticks
    }

    /// Field 22 of /proc/PID/stat.
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

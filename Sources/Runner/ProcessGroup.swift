import Foundation

/// What is left of a command's process group after its leader exited: members it started in the
/// background get SIGTERM, then SIGKILL after a grace period, so no child outlives its command.
enum ProcessGroup {
    static func terminate(_ group: pid_t, grace: Double) {
        guard group > 1, !liveMembers(of: group).isEmpty else { return }
        kill(-group, SIGTERM)
        let deadline = Date(timeIntervalSinceNow: grace)
        while Date() < deadline {
            if liveMembers(of: group).isEmpty { return }
            usleep(20_000)
        }
        kill(-group, SIGKILL)
    }

    /// Processes in the group that are not zombies (zombies are gone already, waiting to be reaped).
    static func liveMembers(of group: pid_t) -> [pid_t] {
        guard kill(-group, 0) == 0 || errno == EPERM else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // After "(comm)": state, ppid, pgrp.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", pid_t(fields[2]) == group else { return nil }
            return pid
        }
    }
}

import Catalog
import Foundation

/// What is left of a command's process group after its leader exited: members it started in the
/// background get SIGTERM, then SIGKILL after a grace period, so no child outlives its command.
public enum ProcessGroup {
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

extension ProcessGroup {
    /// At start-up: SIGKILL to what is left of the process groups of runs a killed slothd (or CLI) left
    /// behind; returns how many groups still had members.
    public static func killLeftovers(_ groups: [Int32]) -> Int {
        groups.filter { group in
            guard group > 1, !liveMembers(of: group).isEmpty else { return false }
            kill(-group, SIGKILL)
            return true
        }.count
    }
}

/// The process groups of one run's jobs, recorded with the run as they start, so that a slothd killed
/// mid-run can end them at its next start. Groups that start before the run has its row wait for it.
final class ProcessLedger: @unchecked Sendable {
    private let runs: RunStore
    private let lock = NSLock()
    private var runID: Int64?
    private var waiting: [pid_t] = []

    init(runs: RunStore) { self.runs = runs }

    func attach(runID: Int64) {
        let pending = lock.withLock {
            self.runID = runID
            defer { waiting.removeAll() }
            return waiting
        }
        for group in pending { try? runs.recordProcessGroup(run: runID, pgid: group) }
    }

    func started(_ group: pid_t) {
        let known: Int64? = lock.withLock {
            if runID == nil { waiting.append(group) }
            return runID
        }
        if let known { try? runs.recordProcessGroup(run: known, pgid: group) }
    }

    /// Called once the group is empty: its number may be reused, so it must not be killed later.
    func ended(_ group: pid_t) {
        let known: Int64? = lock.withLock {
            waiting.removeAll { $0 == group }
            return runID
        }
        if let known { try? runs.forgetProcessGroup(run: known, pgid: group) }
    }
}

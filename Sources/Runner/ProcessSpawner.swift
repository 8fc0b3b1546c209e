import CProcess
import Foundation

/// Starts job processes from one thread that lives as long as the process: a job's leader gets
/// `PR_SET_PDEATHSIG`, which the kernel fires when the *thread* that forked it exits, so forking from
/// Swift's pooled threads (which come and go) would kill jobs at random. The only importer of CProcess.
public final class ProcessSpawner: @unchecked Sendable {
    public static let shared = ProcessSpawner()

    struct Request {
        var executable: String
        var argv: [String]
        var environment: [String]
        var workdir: String?
        var stdin: Int32, stdout: Int32, stderr: Int32
        var identity: (uid: uid_t, gid: gid_t, groups: [gid_t])?
    }

    struct Failure: Error, CustomStringConvertible {
        let stage: String
        let code: Int32
        var description: String {
            let reason = String(cString: strerror(code))
            switch stage {
            case "exec": return reason
            case "chdir": return "cannot enter the working directory: \(reason)"
            default: return "\(stage): \(reason)"
            }
        }
    }

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []

    private init() {
        let thread = Thread { [self] in serve() }
        thread.name = "slothd spawner"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The soft open-file limit slothd started with, restored in every job.
    nonisolated(unsafe) private static var jobOpenFileLimit: Int?

    /// Raises slothd's own open-file limit to the hard limit (connections need descriptors); jobs keep
    /// the limit slothd was given. Call once at start-up, before any job runs.
    public static func raiseOpenFileLimit() {
        let previous = sloth_raise_nofile()
        if previous >= 0 { jobOpenFileLimit = previous }
    }

    /// Starts the process on the spawner thread and returns its pid, which is also its process group.
    func spawn(_ request: Request) throws(Failure) -> pid_t {
        let result = onSpawnerThread { Self.spawnHere(request) }
        return try result.get()
    }

    private func onSpawnerThread<T>(_ work: @escaping () -> T) -> T {
        let done = NSCondition()
        var result: T?
        condition.lock()
        jobs.append {
            let value = work()
            done.lock()
            result = value
            done.signal()
            done.unlock()
        }
        condition.signal()
        condition.unlock()
        done.lock()
        while result == nil { done.wait() }
        done.unlock()
        return result!
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let batch = jobs
            jobs.removeAll()
            condition.unlock()
            for job in batch { job() }
        }
    }

    private static func spawnHere(_ request: Request) -> Result<pid_t, Failure> {
        withCStrings(request.argv) { argv in
            withCStrings(request.environment) { envp in
                var groups = request.identity?.groups ?? []
                return groups.withUnsafeMutableBufferPointer { groupBuffer in
                    request.executable.withCString { path in
                        withOptionalCString(request.workdir) { workdir in
                            var spawn = sloth_spawn_request()
                            spawn.path = path
                            spawn.argv = argv
                            spawn.envp = envp
                            spawn.workdir = workdir
                            (spawn.stdin_fd, spawn.stdout_fd, spawn.stderr_fd) = (request.stdin, request.stdout, request.stderr)
                            if let identity = request.identity {
                                spawn.set_ids = 1
                                (spawn.uid, spawn.gid) = (identity.uid, identity.gid)
                                spawn.groups = UnsafePointer(groupBuffer.baseAddress)
                                spawn.group_count = Int32(groupBuffer.count)
                            }
                            if let limit = jobOpenFileLimit {
                                spawn.set_nofile = 1
                                spawn.nofile_soft = UInt(limit)
                            }
                            var stage: UnsafePointer<CChar>?
                            let pid = sloth_spawn(&spawn, &stage)
                            if pid > 0 { return .success(pid) }
                            return .failure(Failure(stage: stage.map { String(cString: $0) } ?? "spawn", code: -pid))
                        }
                    }
                }
            }
        }
    }

    /// A close-on-exec pipe: (read end, write end).
    static func pipe() -> (read: Int32, write: Int32)? {
        var ends: [Int32] = [-1, -1]
        return sloth_pipe_cloexec(&ends) == 0 ? (ends[0], ends[1]) : nil
    }

    /// A pidfd for `pid` (readable once it exits), or nil on kernels without pidfd_open.
    static func pidDescriptor(_ pid: pid_t) -> Int32? {
        let descriptor = sloth_pidfd_open(pid)
        return descriptor >= 0 ? descriptor : nil
    }
}

private func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> T) -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func withOptionalCString<T>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}

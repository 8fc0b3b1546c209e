import Foundation

/// Starts a program and returns its pid (the caller reaps it). Its stdin, stdout and stderr are the given
/// files (/dev/null when nil); no other descriptor of ours reaches it.
/// posix_spawn, not Process: Foundation's spawn walks /proc/self/fd copying whole `dirent`s, which reads
/// past the end of its buffer and crashes once a test holds a few thousand descriptors; its Process would
/// also reap the child, racing the caller's own waits.
public func spawnDetached(_ arguments: [String], environment: [String],
                          stdin: String? = nil, stdout: String? = nil, stderr: String? = nil) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_APPEND, 0)
    posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_APPEND, 0)
    _ = addCloseFrom(&actions, 3)
    var argv = arguments.map { strdup($0) } + [nil]
    var envp = environment.map { strdup($0) } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    // The calling thread's blocked signals would be the child's: a dispatch thread blocks SIGTERM, and a
    // chromedriver started from one could not be stopped. The child starts with none blocked, defaults for all.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    sigdelset(&all, SIGKILL)
    sigdelset(&all, SIGSTOP)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let failure = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, &envp)
    guard failure == 0 else { throw POSIXError(POSIXErrorCode(rawValue: failure) ?? .ENOENT) }
    return pid
}

/// Waits for `pid` and returns its exit status, or 128 + the signal that ended it.
public func exitCode(of pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np`, which its Swift module does not export.
private let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
        return { _, _ in 0 }
    }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

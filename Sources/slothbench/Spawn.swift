import ArgumentParser
import Foundation

/// posix_spawn and waitpid, nothing else (Foundation's Process adds milliseconds of its own).
func spawnAndWait(_ arguments: [String], environment: [String]? = nil, quiet: Bool = false) throws {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if quiet {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    var argv = arguments.map { strdup($0) } + [nil]
    var envp = environment.map { $0.map { strdup($0) } + [nil] }
    defer {
        argv.forEach { free($0) }
        envp?.forEach { free($0) }
    }
    var pid: pid_t = 0
    let spawned = envp == nil
        ? posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        : posix_spawn(&pid, arguments[0], &actions, nil, &argv, &envp!)
    guard spawned == 0 else { throw ValidationError("cannot start \(arguments[0])") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    guard status == 0 else { throw ValidationError("\(arguments.joined(separator: " ")) failed") }
}

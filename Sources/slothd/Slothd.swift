import ArgumentParser
import Control
import Foundation

/// `slothd`: the scheduler daemon's composition root.
@main
struct Slothd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slothd",
        abstract: "The slothd scheduler daemon: the workflow catalog and runs, served on a Unix control socket.",
        version: SlothVersion.current
    )

    @Option(help: ArgumentHelp("YAML settings (default: /etc/slothd/slothd.yaml for root, else ~/.config/slothd/slothd.yaml).", valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("Directory of the database (default: $SLOTHD_STATE_DIR, $STATE_DIRECTORY, or per user).", valueName: "DIR"))
    var stateDir: String?

    @Option(help: ArgumentHelp("Control socket path (default: $SLOTH_SOCKET, $RUNTIME_DIRECTORY/control.sock, or per user).", valueName: "PATH"))
    var socket: String?

    @Option(help: "Runs executed at once (default: the number of cores).")
    var workers: Int?

    @Option(help: "Runs that may wait for a worker (default 1000).")
    var queue: Int?

    @Option(help: "Seconds running runs get to finish on SIGTERM before they are cancelled (default 30).")
    var shutdownGrace: Int?

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let queue, queue < 0 { throw ValidationError("--queue must be 0 or more") }
        if let shutdownGrace, shutdownGrace < 0 { throw ValidationError("--shutdown-grace must be 0 or more") }
    }

    func run() async throws {
        let log = DaemonLog()
        do {
            let flags = DaemonConfiguration.Flags(configFile: config, stateDir: stateDir, socket: socket, workers: workers,
                                                  queue: queue, grace: shutdownGrace)
            try await Daemon(configuration: try DaemonConfiguration.resolve(flags), flags: flags, log: log).run()
        } catch let error as DaemonConfiguration.Invalid {
            log.error("\(error)")
            throw ExitCode(2)
        } catch {
            log.error("\(error)")
            throw ExitCode.failure
        }
    }
}

enum SlothVersionText {
    static let current = SlothVersion.current
}

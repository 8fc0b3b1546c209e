import ArgumentParser
import Control
import Foundation
import SlothdCore

/// `slothd`: the scheduler daemon's composition root.
@main
struct Slothd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slothd",
        abstract: "The slothd scheduler daemon: the workflow catalog and runs, served on a Unix control socket.",
        discussion: """
            slothd keeps the workflow catalog, the schedules and the run history in one SQLite database \
            (slothd.db in the state directory), fires schedules, runs workflows in a bounded worker pool and \
            serves sloth(1) on the control socket (mode 0660). Settings come from the defaults, then the YAML \
            file, then $SLOTHD_STATE_DIR and $SLOTH_SOCKET, then these options.

            Under systemd (units/slothd.service, Type=notify) it reports READY, STATUS and WATCHDOG and takes \
            its socket from slothd.socket when socket-activated. SIGHUP reloads the settings file; SIGTERM and \
            SIGINT stop it gracefully: running runs get --shutdown-grace seconds, then they are cancelled and \
            recorded as interrupted.

            Exit status: 0 stopped cleanly; 1 it could not start or failed; 2 invalid options or settings.
            """,
        version: SlothVersion.current,
        subcommands: [AgentCommand.self]
    )

    @Option(help: ArgumentHelp("YAML settings (default: /etc/slothd/slothd.yaml for root, else ~/.config/slothd/slothd.yaml).", valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("Directory of the database (default: $SLOTHD_STATE_DIR, $STATE_DIRECTORY, or per user).", valueName: "DIR"))
    var stateDir: String?

    @Option(help: ArgumentHelp("Control socket path (default: $SLOTH_SOCKET, $RUNTIME_DIRECTORY/control.sock, or per user).", valueName: "PATH"))
    var socket: String?

    // Numbers take the next word unconditionally, so that "--workers -1" is refused as a value, not as a missing one.
    @Option(parsing: .unconditional, help: ArgumentHelp("Runs executed at once (default: the number of cores); with agent, its tasks at once.", valueName: "N"))
    var workers: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Runs that may wait for a worker (default 1000).", valueName: "N"))
    var queue: Int?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Seconds running runs get to finish on SIGTERM before they are cancelled (default 30).", valueName: "SECONDS"))
    var shutdownGrace: Int?

    @Option(help: ArgumentHelp("Accept agents on this address (HOST:PORT, e.g. 127.0.0.1:50053; default: none).", valueName: "HOST:PORT"))
    var agentsListen: String?

    @Option(help: ArgumentHelp("TLS certificate (PEM) of the agents' listener; with agent, this agent's own.", valueName: "FILE"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("Its private key (PEM).", valueName: "FILE"))
    var tlsKey: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("CA (PEM): agents must show a certificate it signed (mutual TLS); with agent, the master's CA.", valueName: "FILE"))
    var tlsCA: String?

    @Option(help: ArgumentHelp("Serve the web dashboard and /v1 over TCP on this address (HOST:PORT, e.g. 127.0.0.1:8080; default: none).",
                               valueName: "HOST:PORT"))
    var httpListen: String?

    @Option(name: .customLong("http-tls-cert"), help: ArgumentHelp("TLS certificate (PEM) of the dashboard's listener.", valueName: "FILE"))
    var httpTLSCert: String?

    @Option(name: .customLong("http-tls-key"), help: ArgumentHelp("Its private key (PEM).", valueName: "FILE"))
    var httpTLSKey: String?

    /// Usage errors are one line on stderr (`slothd: --workers must be at least 1`), exit 2, as in sloth.
    static func main() async {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            guard exitCode(for: error) != .success else { exit(withError: error) }
            let message = message(for: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
            FileHandle.standardError.write(Data("slothd: \(message)\n".utf8))
            Foundation.exit(exitCode(for: error) == .validationFailure ? 2 : exitCode(for: error).rawValue)
        }
        do {
            if let daemon = command as? Slothd {
                try await daemon.run()
            } else if let agent = command as? AgentCommand {
                try await agent.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let queue, queue < 0 { throw ValidationError("--queue must be 0 or more") }
        if let shutdownGrace, shutdownGrace < 0 { throw ValidationError("--shutdown-grace must be 0 or more") }
    }

    func run() async throws {
        let log = DaemonLog()
        do {
            let flags = DaemonConfiguration.Flags(configFile: config, stateDir: stateDir, socket: socket, workers: workers,
                                                  queue: queue, grace: shutdownGrace, agentsListen: agentsListen, tlsCert: tlsCert,
                                                  tlsKey: tlsKey, tlsCA: tlsCA, httpListen: httpListen, httpTLSCert: httpTLSCert,
                                                  httpTLSKey: httpTLSKey)
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

import Agents
import ArgumentParser
import Catalog
import Control
import Foundation
import Runner
import Scheduler
import SlothdCore
import UnixSignals

/// `slothd agent`: this host runs tasks a master delegates to it (SPEC section 8).
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run as an agent: connect out to a master slothd and run the tasks it delegates here.",
        discussion: """
            The agent dials the master (nothing listens here), registers with its name, tags, version and \
            facts, sends a heartbeat every 5 s and reconnects with backoff (1 s doubling to 30 s). Each task \
            runs in a fresh Lua state; its secrets.get and state.* calls are answered by the master, so no \
            secret is written here. The token file (from `sloth agent token create NAME` on the master) must \
            be readable by its owner only (mode 0600).

            TLS: --tls-ca names the CA of the master's certificate; --tls-cert and --tls-key are this agent's \
            own certificate, for a master that requires them (mutual TLS).

            --workers bounds the tasks run here at once (default: the cores); --state-dir is the agent's own \
            bookkeeping (the process groups of its jobs; default /var/lib/slothd-agent for root).

            Under systemd (units/slothd-agent.service, Type=notify) READY=1 is sent once the master has \
            accepted the agent.

            Exit status: 0 stopped; 1 it could not start; 2 invalid options or token file.
            """
    )

    @Option(help: ArgumentHelp("This agent's name (letters, digits, . _ -).", valueName: "NAME")) var name: String
    @Option(help: ArgumentHelp("The master's agents address (its --agents-listen).", valueName: "HOST:PORT")) var master: String
    @Option(help: ArgumentHelp("File holding the agent's token (mode 0600; $CREDENTIALS_DIRECTORY/agent-token under systemd).",
                               valueName: "FILE"))
    var tokenFile: String?
    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag the master can choose this agent by (repeatable).", valueName: "KEY=VALUE"))
    var tags: [String] = []
    /// `--workers`, `--state-dir` and `--tls-cert/--tls-key/--tls-ca` are slothd's own options (the parser
    /// gives them to it wherever they stand), read here for the agent's side.
    @ParentCommand var daemon: Slothd

    func validate() throws {
        guard PlainName.isValid(name) else { throw ValidationError("invalid --name \"\(name)\": use letters, digits, . _ -") }
        guard HostPort(master) != nil else { throw ValidationError("invalid --master \"\(master)\": use HOST:PORT") }
        for tag in tags where Self.tag(tag) == nil { throw ValidationError("invalid --tag \"\(tag)\": use KEY=VALUE") }
        if let problem = tls.problem(master: false) { throw ValidationError(problem) }
    }

    var tls: AgentTLS { AgentTLS(certificate: daemon.tlsCert, key: daemon.tlsKey, authority: daemon.tlsCA) }

    static func tag(_ text: String) -> (String, String)? {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    func run() async throws {
        let log = DaemonLog()
        let environment = ProcessInfo.processInfo.environment
        let token: String
        do {
            token = try AgentTokenFile.read(tokenFile ?? environment["CREDENTIALS_DIRECTORY"].map { $0 + "/agent-token" })
        } catch {
            log.error("\(error)")
            throw ExitCode(2)
        }
        let directory = daemon.stateDir ?? environment["STATE_DIRECTORY"]?.split(separator: ":").first.map(String.init)
            ?? (getuid() == 0 ? "/var/lib/slothd-agent" : (environment["HOME"] ?? "/tmp") + "/.local/state/slothd-agent")
        let runner: WorkflowRunner
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let database = try CatalogDatabase(path: directory + "/agent.db")
            let killed = ProcessGroup.killLeftovers(try RunStore(database: database).interruptAbandoned(reason: "the agent stopped").processGroups)
            if killed > 0 { log.warn("killed what was left of \(killed) job process group(s) from before this agent started") }
            runner = WorkflowRunner(database: database, echo: nil)
        } catch {
            log.error("cannot use the state directory \(directory): \(error)")
            throw ExitCode.failure
        }
        let address = HostPort(master)!
        let options = Agent.Options(name: name, masterHost: address.host, masterPort: address.port, token: token,
                                    tags: Dictionary(tags.compactMap(Self.tag)) { $1 }, tls: tls,
                                    workers: daemon.workers ?? ProcessInfo.processInfo.activeProcessorCount, version: SlothVersion.current)
        let agent = Agent(options: options, runner: runner, say: { log.info($0) })
        let notifier = SystemdNotifier()
        log.info("agent \(name) \(SlothVersion.current) starting (master \(master), \(options.workers) workers, \(tls.isEnabled ? "TLS" : "no TLS"))")
        let running = Task { await agent.run { notifier.send(.ready(status: "connected to \(address)")) } }
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
            notifier.send(.stopping)
            running.cancel()
            break
        }
        await running.value
        log.info("agent \(name) stopped")
    }
}

/// The token file: its first line, and only when no one but its owner can read it.
enum AgentTokenFile {
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String?) throws -> String {
        guard let path else { throw Refused(description: "no token: give --token-file (from `sloth agent token create NAME` on the master)") }
        var info = stat()
        guard stat(path, &info) == 0 else { throw Refused(description: "cannot read the token file \(path): \(String(cString: strerror(errno)))") }
        guard info.st_mode & 0o077 == 0 else {
            throw Refused(description: "the token file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 \(path)")
        }
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }),
              let token = text.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }), !token.isEmpty else {
            throw Refused(description: "the token file \(path) is empty")
        }
        return token
    }
}

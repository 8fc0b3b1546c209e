import Agents
import Catalog
import Foundation
import NIOSSL
import Logging
import Runner
import Scheduler
import SlothdCore
import ServiceLifecycle
import UnixSignals

/// The running daemon: the database, the worker pool and the control server as services of one
/// ServiceGroup, with systemd told what happens. SIGTERM/SIGINT: STOPPING=1, the socket closes, queued
/// runs become interrupted, running runs get the grace period, then are cancelled and recorded as
/// interrupted.
struct Daemon {
    let configuration: DaemonConfiguration
    let flags: DaemonConfiguration.Flags
    let notifier = SystemdNotifier()
    let log: DaemonLog

    func run() async throws {
        let database = try CatalogDatabase(path: configuration.stateDirectory + "/slothd.db")
        let instance = try InstanceLock(path: configuration.stateDirectory + "/slothd.lock")
        defer { instance.release() }
        let runs = RunStore(database: database)
        let abandoned = try runs.interruptAbandoned(reason: "slothd stopped before the run finished")
        if abandoned.runs > 0 { log.warn("marked \(abandoned.runs) unfinished run(s) from a previous slothd as interrupted") }
        let killed = ProcessGroup.killLeftovers(abandoned.processGroups)
        if killed > 0 { log.warn("killed what was left of \(killed) job process group(s) of those runs") }
        ProcessSpawner.raiseOpenFileLimit()
        // Runs read no standard input: a terminal slothd was started from would block a run's io.read.
        let null = open("/dev/null", O_RDONLY)
        if null > 0 { dup2(null, 0); close(null) }

        let activated = notifier.takeListenDescriptors()
        let listener: ControlServer.Listener = activated.first.map { .descriptor($0) } ?? .path(configuration.socketPath)
        let place = activated.isEmpty ? configuration.socketPath : "the socket systemd passed (fd \(activated[0]))"
        if activated.isEmpty {
            try FileManager.default.createDirectory(atPath: (configuration.socketPath as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        }
        let clock = WallClock()
        let metrics = DaemonMetrics()
        let hub = configuration.agentsListen.map { _ in
            AgentHub(database: database, keyring: SecretKeyring(stateDirectory: configuration.stateDirectory,
                                                             environment: ProcessInfo.processInfo.environment))
        }
        try AgentStore(database: database).markAllDisconnected()
        adoptAgentTasks(hub, database: database)
        let runner = WorkflowRunner(database: database, echo: nil,
                                    limits: .init(memoryBytes: configuration.runMemoryLimit, logBytes: configuration.runLogLimit),
                                    delegator: hub)
        let pool = WorkerPool(workers: configuration.workers, capacity: configuration.queueCapacity,
                              runner: runner, runs: runs, metrics: metrics, log: log, clock: clock)
        let scheduler = ScheduleService(database: database, pool: pool, metrics: metrics, log: log, clock: clock)
        let hookService = HookService(database: database, pool: pool, log: log, clock: clock)
        try await scheduler.start()
        let started = clock.nowMillis()
        let events = EventStore(database: database)
        _ = try? events.record(type: "system.startup", data: ["version": SlothVersionText.current],
                               numbers: ["pid": Int64(getpid())])
        let access = AccessPolicy(groupName: configuration.group)
        var router = ControlRouter(database: database, pool: pool, metrics: metrics, zone: ZoneRules.host(), clock: clock,
                                   access: access, scheduler: scheduler, keyring: runner.keyring,
                                   hookService: hookService, log: log, agentHub: hub)
        router.dashboardURL = configuration.httpListen.map { "\(configuration.httpTLS == nil ? "http" : "https")://\($0)/" }
        let server = ControlServer(listener: listener, router: router, access: access,
                                   connections: ConnectionTable(limits: configuration.control, log: log),
                                   socketGroup: configuration.group.flatMap { getgrnam($0)?.pointee.gr_gid })
        let control = ControlService(server: server, notifier: notifier, log: log,
                                     ready: Self.status(busy: 0, workers: configuration.workers, queued: 0,
                                                        schedules: await scheduler.summary()),
                                     place: place, stateDirectory: configuration.stateDirectory)
        let dashboard = try dashboardServices(router: router, access: access)
        var logger = Logger(label: "slothd")
        logger.logLevel = .warning
        // Services stop in reverse order: the agents' listener last, so results still arrive while runs drain.
        let group = ServiceGroup(configuration: .init(
            services: agentServices(hub) + [
                .init(service: PoolService(pool: pool, grace: configuration.shutdownGrace, stopping: { hub?.detach() })),
                .init(service: SchedulerLoop(scheduler: scheduler)),
                .init(service: HookLoop(hooks: hookService)),
                .init(service: SystemdService(daemon: self, pool: pool, scheduler: scheduler)),
                .init(service: ReloadService(daemon: self, pool: pool, access: access)),
                .init(service: control),
            ] + dashboard,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        _ = try? events.record(type: "system.shutdown", data: ["reason": "stop requested"],
                               numbers: ["uptime_s": (clock.nowMillis() - started) / 1000])
        if activated.isEmpty { try? FileManager.default.removeItem(atPath: configuration.socketPath) }
        log.info("stopped")
    }

    /// Tasks the previous slothd left running on agents: recorded when their agents report them, or lost
    /// at once when this slothd has no agents' listener to hear them.
    private func adoptAgentTasks(_ hub: AgentHub?, database: CatalogDatabase) {
        if let hub {
            let adopted = hub.adopt()
            if adopted > 0 { log.warn("\(adopted) task(s) left running on agents by the previous slothd: recorded when their agents report them") }
            return
        }
        let lost = (try? AgentLeaseStore(database: database).loseAll("agent_lost: slothd restarted without --agents-listen")) ?? 0
        if lost > 0 { log.warn("\(lost) task(s) left on agents by the previous slothd are recorded as lost: this slothd has no --agents-listen") }
    }

    /// The dashboard's listener, when configured: the control server on TCP behind the web door.
    private func dashboardServices(router: ControlRouter, access: AccessPolicy) throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let address = configuration.httpListen else { return [] }
        let tls = try configuration.httpTLS.map { files in
            try NIOSSLContext(configuration: .makeServerConfiguration(
                certificateChain: NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) },
                privateKey: .privateKey(NIOSSLPrivateKey(file: files.key, format: .pem))))
        }
        let server = ControlServer(listener: .tcp(host: address.host, port: address.port, tls: tls), router: router, access: access,
                                   connections: ConnectionTable(limits: configuration.control, log: log), socketGroup: nil,
                                   web: WebGate(sessions: WebSessions(), secureCookies: tls != nil))
        return [.init(service: DashboardListener(server: server, address: address, secure: tls != nil, log: log))]
    }

    /// The agents' listener, when configured.
    private func agentServices(_ hub: AgentHub?) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let hub, let address = configuration.agentsListen else { return [] }
        let server = AgentServer(host: address.host, port: address.port, hub: hub, tls: configuration.agentsTLS)
        return [.init(service: AgentListener(server: server, log: log))]
    }

    static func status(busy: Int, workers: Int, queued: Int, schedules: ScheduleService.Summary) -> String {
        let scheduler = schedules.paused ? "scheduler paused" : "\(schedules.schedules) schedule(s)"
        let next = schedules.nextFireMillis.map { ", next fire " + RFC3339.format($0 / 1000, in: .host()) } ?? ""
        let problem = schedules.databaseProblem.map { "DATABASE NOT WRITABLE (\($0.prefix(80))); " } ?? ""
        return "\(problem)\(busy)/\(workers) workers busy, \(queued) queued, \(scheduler)\(next)"
    }
}

/// The control socket; the first to stop, so no new work arrives while the rest drains.
struct ControlService: Service {
    let server: ControlServer
    let notifier: SystemdNotifier
    let log: DaemonLog
    let ready: String
    let place: String
    let stateDirectory: String

    func run() async throws {
        try await withGracefulShutdownHandler {
            do {
                try await cancelWhenGracefulShutdown {
                    try await server.run { [notifier, log, ready, place, stateDirectory] in
                        notifier.send(.ready(status: ready))
                        log.info("slothd \(SlothVersionText.current) ready on \(place) (state \(stateDirectory))")
                        StartupPages.release()
                    }
                }
            } catch is CancellationError {
                // The socket closes on shutdown: that is the normal end of serving.
            }
        } onGracefulShutdown: { [notifier, log] in
            log.info("stopping")
            notifier.send(.stopping)
        }
    }
}

/// Agents connect here; a listener on a non-loopback address without TLS is warned about at every start.
struct AgentListener: Service {
    let server: AgentServer
    let log: DaemonLog

    func run() async throws {
        if server.isInsecure {
            log.warn("agents listen on \(server.host):\(server.port) without TLS: tokens and tasks cross the network in the clear (--tls-cert/--tls-key)")
        }
        try? await cancelWhenGracefulShutdown { [server, log] in
            try await server.run { port in log.info("accepting agents on \(server.host):\(port)") }
        }
    }
}

/// The dashboard; on a non-loopback address without TLS a warning at every start.
struct DashboardListener: Service {
    let server: ControlServer
    let address: HostPort
    let secure: Bool
    let log: DaemonLog

    func run() async throws {
        if !secure && !AgentServer.isLoopback(address.host) {
            log.warn("the dashboard listens on \(address.host):\(address.port) without TLS: login tokens and session cookies cross the network in the clear (--http-tls-cert/--http-tls-key)")
        }
        do {
            try await cancelWhenGracefulShutdown { [server, log, address, secure] in
                try await server.run { log.info("dashboard on \(secure ? "https" : "http")://\(address.host):\(address.port)/") }
            }
        } catch is CancellationError {
        } catch {
            log.error("the dashboard cannot listen on \(address.host):\(address.port): \(error)")
            throw error
        }
    }
}

/// The worker pool: on shutdown it drains (grace period, then cancel).
struct PoolService: Service {
    let pool: WorkerPool
    let grace: Duration
    /// Told when shutdown begins, before runs drain.
    let stopping: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        stopping()
        await pool.drain(grace: grace)
    }
}

/// The scheduling loop; it stops before the pool drains, so no fire lands in a closing pool.
struct SchedulerLoop: Service {
    let scheduler: ScheduleService

    func run() async throws {
        await cancelWhenGracefulShutdown { await scheduler.run() }
    }
}

/// STATUS= every few seconds, and WATCHDOG=1 at half the interval systemd asked for. The ping goes
/// through the worker pool's lock, so a daemon whose pool hangs stops pinging and systemd restarts it.
struct SystemdService: Service {
    let daemon: Daemon
    let pool: WorkerPool
    let scheduler: ScheduleService

    func run() async throws {
        let watchdog = daemon.notifier.watchdogInterval
        let period = watchdog.map { min($0 / 2, .seconds(5)) } ?? .seconds(5)
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let (busy, queued, workers) = (pool.busy, pool.queued, pool.workers)
                if watchdog != nil { daemon.notifier.send(.watchdog) }
                daemon.notifier.send(.status(Daemon.status(busy: busy, workers: workers, queued: queued,
                                                           schedules: await scheduler.summary())))
                try await Task.sleep(for: period)
            }
        }
    }
}

/// SIGHUP: RELOADING=1, read the configuration again, apply what can change while running (workers,
/// queue, group), READY=1. A broken file is reported and the running configuration kept.
struct ReloadService: Service {
    let daemon: Daemon
    let pool: WorkerPool
    let access: AccessPolicy

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in await UnixSignalsSequence(trapping: .sighup) { await reload() }
        }
    }

    private func reload() async {
        daemon.notifier.send(.reloading)
        defer { daemon.notifier.send(.ready(status: "configuration reloaded")) }
        do {
            let fresh = try DaemonConfiguration.resolve(daemon.flags)
            pool.resize(workers: fresh.workers, capacity: fresh.queueCapacity)
            access.set(groupName: fresh.group)
            if fresh.stateDirectory != daemon.configuration.stateDirectory || fresh.socketPath != daemon.configuration.socketPath {
                daemon.log.warn("state directory and socket changes take effect at the next start")
            }
            daemon.log.info("reloaded: \(fresh.workers) workers, queue \(fresh.queueCapacity), group \(fresh.group ?? "none")")
        } catch {
            daemon.log.error("reload failed, keeping the running configuration: \(error)")
        }
    }
}

/// One daemon per state directory: a second one would mark the first one's runs as interrupted.
struct InstanceLock {
    struct Held: Error, CustomStringConvertible {
        let path: String
        var description: String { "another slothd is running with this state directory (\(path) is locked)" }
    }

    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw Held(path: path)
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

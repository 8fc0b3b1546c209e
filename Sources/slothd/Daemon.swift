import Catalog
import Foundation
import Runner
import Scheduler

/// The running daemon: the database, the worker pool and the control server, with systemd told what
/// happens. SIGTERM/SIGINT: STOPPING=1, no new runs, running runs get the grace period, then are
/// cancelled and recorded as interrupted.
struct Daemon {
    let configuration: DaemonConfiguration
    let notifier = SystemdNotifier()
    let log: DaemonLog

    func run() async throws {
        let database = try CatalogDatabase(path: configuration.stateDirectory + "/slothd.db")
        let instance = try InstanceLock(path: configuration.stateDirectory + "/slothd.lock")
        defer { instance.release() }
        let runs = RunStore(database: database)
        let interrupted = try runs.interruptUnfinished(reason: "slothd stopped before the run finished")
        if interrupted > 0 { log.warn("marked \(interrupted) unfinished run(s) from a previous slothd as interrupted") }
        let activated = notifier.takeListenDescriptors()
        let listener: ControlServer.Listener = activated.first.map { .descriptor($0) } ?? .path(configuration.socketPath)
        let where_ = activated.isEmpty ? configuration.socketPath : "the socket systemd passed (fd \(activated[0]))"
        if activated.isEmpty {
            try FileManager.default.createDirectory(atPath: (configuration.socketPath as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        }
        let runner = WorkflowRunner(database: database, echo: nil)
        let pool = WorkerPool(workers: configuration.workers, capacity: configuration.queueCapacity, runner: runner, runs: runs)
        let router = ControlRouter(database: database, pool: pool, zone: ZoneRules.host(), startedAt: Date(),
                                   allowedUIDs: [0, getuid()])
        let server = ControlServer(listener: listener, router: router)
        let shutdown = ShutdownSignals()
        let serving = Task {
            try await server.run { [notifier, log, configuration] in
                notifier.send(.ready(status: Self.status(busy: 0, workers: configuration.workers, queued: 0)))
                log.info("slothd \(SlothVersionText.current) ready on \(where_) (state \(configuration.stateDirectory))")
            }
        }
        let watchdog = Task { await keepSystemdInformed(pool: pool) }
        let signal = await shutdown.next()
        log.info("received \(signal), stopping")
        notifier.send(.stopping)
        serving.cancel()
        _ = await serving.result
        await pool.drain(grace: configuration.shutdownGrace)
        watchdog.cancel()
        if activated.isEmpty { try? FileManager.default.removeItem(atPath: configuration.socketPath) }
        log.info("stopped")
    }
}

extension Daemon {
    /// STATUS= every few seconds, and WATCHDOG=1 at half the interval systemd asked for. The ping goes
    /// through the worker pool's actor, so a daemon whose pool hangs stops pinging and systemd restarts it.
    func keepSystemdInformed(pool: WorkerPool) async {
        let watchdog = notifier.watchdogInterval
        let period = watchdog.map { min($0 / 2, .seconds(5)) } ?? .seconds(5)
        while !Task.isCancelled {
            let (busy, queued) = (await pool.busy, await pool.queued)
            if watchdog != nil { notifier.send(.watchdog) }
            notifier.send(.status(Self.status(busy: busy, workers: pool.workers, queued: queued)))
            try? await Task.sleep(for: period)
        }
    }

    static func status(busy: Int, workers: Int, queued: Int) -> String {
        "\(busy)/\(workers) workers busy, \(queued) queued, scheduler off"
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

/// Waits for SIGTERM or SIGINT (ignored as default actions so the daemon can stop in order).
final class ShutdownSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private var continuation: CheckedContinuation<String, Never>?
    private let lock = NSLock()
    private var received: String?

    init() {
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.deliver(name) }
            source.resume()
            sources.append(source)
        }
    }

    private func deliver(_ name: String) {
        lock.lock()
        received = received ?? name
        let waiting = continuation
        continuation = nil
        lock.unlock()
        waiting?.resume(returning: name)
    }

    func next() async -> String {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let received {
                lock.unlock()
                continuation.resume(returning: received)
            } else {
                self.continuation = continuation
                lock.unlock()
            }
        }
    }
}

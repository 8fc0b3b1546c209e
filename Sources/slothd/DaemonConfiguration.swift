import Agents
import Catalog
import Control
import Foundation
import NIOCore
import SlothdCore
import Yams

/// Everything slothd needs to know, loaded at start and again on SIGHUP:
/// defaults < the config file < environment < flags.
struct DaemonConfiguration: Sendable, Equatable {
    var stateDirectory: String
    var socketPath: String
    var workers: Int
    var queueCapacity: Int
    var shutdownGrace: Duration
    /// Members of this group may use the control socket too (besides root and the daemon's user).
    var group: String?
    var configFile: String?
    var control = ControlLimits()
    /// Bytes a run's Lua state may allocate.
    var runMemoryLimit = 256 << 20
    /// Bytes of log a run keeps; past it the log says how much was dropped.
    var runLogLimit = 16 << 20
    /// Where agents connect (`--agents-listen`); nil: slothd accepts no agents.
    var agentsListen: HostPort?
    var agentsTLS = AgentTLS(certificate: nil, key: nil, authority: nil)
    /// Where the dashboard and `/v1` over TCP listen (`--http-listen`); nil: no dashboard.
    var httpListen: HostPort?
    /// Its TLS certificate and key (PEM), both or neither.
    var httpTLS: TLSFiles?

    struct TLSFiles: Sendable, Equatable {
        var certificate: String
        var key: String
    }

    struct Flags: Sendable {
        var configFile: String?
        var stateDir: String?
        var socket: String?
        var workers: Int?
        var queue: Int?
        var grace: Int?
        var agentsListen: String?
        var tlsCert: String?
        var tlsKey: String?
        var tlsCA: String?
        var httpListen: String? = nil
        var httpTLSCert: String? = nil
        var httpTLSKey: String? = nil
    }

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// `/etc/slothd/slothd.yaml` for root, `$XDG_CONFIG_HOME/slothd/slothd.yaml` (or `~/.config/…`) otherwise.
    static func defaultConfigFile(environment: [String: String], uid: UInt32) -> String {
        if uid == 0 { return "/etc/slothd/slothd.yaml" }
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? (environment["HOME"] ?? "") + "/.config"
        return base + "/slothd/slothd.yaml"
    }

    static func resolve(_ flags: Flags, environment: [String: String] = ProcessInfo.processInfo.environment,
                        uid: UInt32 = getuid()) throws -> DaemonConfiguration {
        let path = flags.configFile ?? defaultConfigFile(environment: environment, uid: uid)
        let file = try FileSettings.load(path, required: flags.configFile != nil)
        let state = try StateLocation.resolve(explicit: flags.stateDir ?? (environment["SLOTHD_STATE_DIR"] == nil ? file.state_dir : nil),
                                              environment: environment, uid: uid)
        let socket = flags.socket ?? (environment["SLOTH_SOCKET"] == nil ? file.socket : nil)
        var configuration = DaemonConfiguration(
            stateDirectory: state.directory,
            socketPath: SocketLocation.resolve(explicit: socket, environment: environment, uid: uid),
            workers: flags.workers ?? file.workers ?? ProcessInfo.processInfo.activeProcessorCount,
            queueCapacity: flags.queue ?? file.queue ?? 1000,
            shutdownGrace: .seconds(flags.grace ?? file.shutdown_grace ?? 30),
            group: file.group,
            configFile: FileManager.default.fileExists(atPath: path) ? path : nil,
            control: ControlLimits(maxConnections: file.max_connections ?? 256, headerTimeout: .seconds(Int64(file.header_timeout ?? 10)),
                                   idleTimeout: .seconds(Int64(file.idle_timeout ?? 60))),
            runMemoryLimit: (file.run_memory_limit ?? 256) << 20,
            runLogLimit: (file.run_log_limit ?? 16) << 20,
            agentsListen: try (flags.agentsListen ?? file.agents_listen).map { text throws(Invalid) in
                guard let address = HostPort(text) else {
                    throw Invalid(description: "invalid agents_listen \"\(text)\": use HOST:PORT (127.0.0.1:50053, [::1]:50053)")
                }
                return address
            },
            agentsTLS: AgentTLS(certificate: flags.tlsCert ?? file.tls_cert, key: flags.tlsKey ?? file.tls_key,
                                authority: flags.tlsCA ?? file.tls_ca))
        configuration.httpListen = try (flags.httpListen ?? file.http_listen).map { text throws(Invalid) in
            guard let address = HostPort(text) else {
                throw Invalid(description: "invalid http_listen \"\(text)\": use HOST:PORT (127.0.0.1:8080, [::1]:8080)")
            }
            return address
        }
        switch (flags.httpTLSCert ?? file.http_tls_cert, flags.httpTLSKey ?? file.http_tls_key) {
        case (nil, nil): break
        case (let certificate?, let key?):
            for file in [certificate, key] where !FileManager.default.isReadableFile(atPath: file) {
                throw Invalid(description: "cannot read the dashboard's TLS file \(file)")
            }
            configuration.httpTLS = TLSFiles(certificate: certificate, key: key)
        default: throw Invalid(description: "the dashboard's TLS needs both --http-tls-cert and --http-tls-key")
        }
        if let problem = configuration.agentsTLS.problem(master: true) { throw Invalid(description: problem) }
        for file in [configuration.agentsTLS.certificate, configuration.agentsTLS.key, configuration.agentsTLS.authority].compactMap({ $0 })
        where !FileManager.default.isReadableFile(atPath: file) {
            throw Invalid(description: "cannot read the TLS file \(file)")
        }
        guard configuration.workers >= 1 else { throw Invalid(description: "\(path): workers must be at least 1") }
        guard configuration.queueCapacity >= 0 else { throw Invalid(description: "\(path): queue must be 0 or more") }
        for (key, value) in [("max_connections", file.max_connections), ("header_timeout", file.header_timeout),
                             ("idle_timeout", file.idle_timeout), ("run_memory_limit", file.run_memory_limit),
                             ("run_log_limit", file.run_log_limit)] {
            if let value, value < 1 { throw Invalid(description: "\(path): \(key) must be at least 1") }
        }
        if let group = configuration.group, getgrnam(group) == nil {
            throw Invalid(description: "\(path): no such group \"\(group)\"")
        }
        return configuration
    }

    /// The keys the YAML file may set; anything else is refused by name.
    struct FileSettings: Decodable {
        var state_dir: String?
        var socket: String?
        var workers: Int?
        var queue: Int?
        var shutdown_grace: Int?
        var group: String?
        var max_connections: Int?
        /// Seconds.
        var header_timeout: Int?
        var idle_timeout: Int?
        /// MiB.
        var run_memory_limit: Int?
        var run_log_limit: Int?
        var agents_listen: String?
        var tls_cert: String?
        var tls_key: String?
        var tls_ca: String?
        var http_listen: String?
        var http_tls_cert: String?
        var http_tls_key: String?

        static let keys: Set<String> = ["state_dir", "socket", "workers", "queue", "shutdown_grace", "group", "max_connections",
                                        "header_timeout", "idle_timeout", "run_memory_limit", "run_log_limit", "agents_listen",
                                        "tls_cert", "tls_key", "tls_ca", "http_listen", "http_tls_cert", "http_tls_key"]

        static func load(_ path: String, required: Bool) throws -> FileSettings {
            guard let data = FileManager.default.contents(atPath: path) else {
                if required { throw Invalid(description: "cannot read config file \(path)") }
                return FileSettings()
            }
            let text = String(decoding: data, as: UTF8.self)
            do {
                if let mapping = try Yams.load(yaml: text) as? [String: Any] {
                    if let unknown = mapping.keys.sorted().first(where: { !keys.contains($0) }) {
                        throw Invalid(description: "\(path): unknown setting \"\(unknown)\" (known: \(keys.sorted().joined(separator: ", ")))")
                    }
                }
                return try YAMLDecoder().decode(FileSettings.self, from: text.isEmpty ? "{}" : text)
            } catch let error as Invalid {
                throw error
            } catch {
                throw Invalid(description: "\(path): \(error)")
            }
        }

        init() {}
    }
}

/// `HOST:PORT`, with an IPv6 host in brackets.
struct HostPort: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        (self.host, self.port) = (host, port)
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

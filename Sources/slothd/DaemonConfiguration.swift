import Catalog
import Control
import Foundation

/// Everything slothd needs to know, loaded once at start: defaults < environment < flags.
struct DaemonConfiguration: Sendable {
    var stateDirectory: String
    var socketPath: String
    var workers: Int
    var queueCapacity: Int
    var shutdownGrace: Duration

    static func resolve(stateDir: String?, socket: String?, workers: Int?, queue: Int?, grace: Int?,
                        environment: [String: String] = ProcessInfo.processInfo.environment,
                        uid: UInt32 = getuid()) throws -> DaemonConfiguration {
        let state = try StateLocation.resolve(explicit: stateDir, environment: environment, uid: uid)
        return DaemonConfiguration(
            stateDirectory: state.directory,
            socketPath: SocketLocation.resolve(explicit: socket, environment: environment, uid: uid),
            workers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
            queueCapacity: queue ?? 1000,
            shutdownGrace: .seconds(grace ?? 30))
    }
}

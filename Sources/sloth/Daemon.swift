import Control
import Foundation

/// How `sloth` reaches slothd: the socket of SPEC section 3 (`--socket`, then `SLOTH_SOCKET`, …).
enum DaemonOptions {
    static func client(socket: String?) -> ControlClient {
        ControlClient(socket: SocketLocation.resolve(explicit: socket, environment: ProcessInfo.processInfo.environment, uid: getuid()))
    }
}

/// A refusal from slothd: 4xx is the user's input (exit 2), except 403, a peer slothd does not let in;
/// that and anything else exit 1.
func daemonCall<T>(_ body: () throws(ControlClient.Error) -> T) throws -> T {
    do {
        return try body()
    } catch {
        if case .refused(let status, _, _) = error, (400..<500).contains(status), status != 403 {
            throw InvalidInput(message: error.description)
        }
        throw CommandFailure(message: error.description)
    }
}


import CSystemd

/// The sd_notify protocol (the only Swift file that imports CSystemd): `READY=1`, `STATUS=…`,
/// `WATCHDOG=1`, `RELOADING=1`, `STOPPING=1`. A no-op when slothd does not run under systemd.
struct SystemdNotifier: Sendable {
    enum Message: Equatable {
        case ready(status: String)
        case status(String)
        case watchdog
        case reloading
        case stopping

        var wireText: String {
            switch self {
            case .ready(let status): "READY=1\nSTATUS=\(status)"
            case .status(let status): "STATUS=\(status)"
            case .watchdog: "WATCHDOG=1"
            case .reloading: "RELOADING=1"
            case .stopping: "STOPPING=1"
            }
        }
    }

    /// Sends a message to `NOTIFY_SOCKET`; returns false when there is no such socket.
    @discardableResult
    func send(_ message: Message) -> Bool {
        sd_notify(0, message.wireText) > 0
    }

    /// Sockets systemd passed (socket activation), taking them over: the variables are unset so that
    /// nothing started later sees them.
    func takeListenDescriptors() -> [Int32] {
        let count = sd_listen_fds(1)
        guard count > 0 else { return [] }
        return (0..<count).map { sloth_sd_listen_fds_start() + $0 }
    }

    /// The watchdog interval systemd expects pings within, if it set one for this process.
    var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0 else { return nil }
        return .microseconds(microseconds)
    }
}

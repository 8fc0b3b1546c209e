import CSystemd
import Glibc

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

    /// Sends a message to `NOTIFY_SOCKET`; returns false when there is no such socket, or when its
    /// queue is full. Never waits: sd_notify blocks on a full queue, and a listener that stopped reading
    /// (STATUS goes out every 5 s) wedged slothd's shutdown on its STOPPING=1.
    @discardableResult
    func send(_ message: Message) -> Bool {
        guard let path = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !path.isEmpty, path.utf8.count < 108 else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // "@name" is an abstract socket: a leading NUL and no terminating one.
        let bytes = path.hasPrefix("@") ? [0] + Array(path.utf8.dropFirst()) : Array(path.utf8) + [0]
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let text = Array(message.wireText.utf8)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, text, text.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), $0, length)
            }
        }
        return sent == text.count
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

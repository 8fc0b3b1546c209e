/// Where the control socket lives (SPEC section 3): both binaries find it by the same rules.
public enum SocketLocation {
    /// `--socket`, then `SLOTH_SOCKET`, then systemd's `RUNTIME_DIRECTORY`, then the root or per-user default.
    public static func resolve(explicit: String? = nil, environment: [String: String], uid: UInt32) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let path = environment["SLOTH_SOCKET"], !path.isEmpty { return path }
        if let dirs = environment["RUNTIME_DIRECTORY"], let first = dirs.split(separator: ":").first {
            return "\(first)/control.sock"
        }
        if uid == 0 { return "/run/slothd/control.sock" }
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { return runtime + "/slothd/control.sock" }
        return "/tmp/slothd-\(uid)/control.sock"
    }
}

/// Where slothd keeps its database (SPEC section 3), decided from the environment and the user id alone.
public struct StateLocation: Equatable, Sendable {
    public let directory: String
    public var databasePath: String { directory + "/slothd.db" }

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case noHome
        public var description: String {
            switch self {
            case .noHome: "cannot find a state directory: HOME is unset (set SLOTHD_STATE_DIR or pass --state-dir)"
            }
        }
    }

    public init(directory: String) { self.directory = directory }

    /// `--state-dir`, then `SLOTHD_STATE_DIR`, then systemd's `STATE_DIRECTORY`, then the root or per-user default.
    public static func resolve(explicit: String? = nil, environment: [String: String], uid: UInt32) throws(Error) -> StateLocation {
        if let explicit, !explicit.isEmpty { return StateLocation(directory: explicit) }
        if let dir = environment["SLOTHD_STATE_DIR"], !dir.isEmpty { return StateLocation(directory: dir) }
        if let dirs = environment["STATE_DIRECTORY"], let first = dirs.split(separator: ":").first {
            return StateLocation(directory: String(first))
        }
        if uid == 0 { return StateLocation(directory: "/var/lib/slothd") }
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") { return StateLocation(directory: xdg + "/slothd") }
        guard let home = environment["HOME"], !home.isEmpty else { throw .noHome }
        return StateLocation(directory: home + "/.local/state/slothd")
    }
}

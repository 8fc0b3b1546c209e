/// The version both binaries report; the daemon and the CLI compare it over the control socket.
public enum SlothVersion {
    public static let current = "0.1.0"
}

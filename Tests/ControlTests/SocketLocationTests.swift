import Control
import Testing

@Suite("Where the control socket lives")
struct SocketLocationTests {
    @Test(arguments: [
        (nil, ["SLOTH_SOCKET": "/tmp/t/c.sock"], UInt32(1000), "/tmp/t/c.sock"),
        ("/x.sock", ["SLOTH_SOCKET": "/tmp/t/c.sock"], 1000, "/x.sock"),
        (nil, ["RUNTIME_DIRECTORY": "/run/slothd"], 0, "/run/slothd/control.sock"),
        (nil, [:], 0, "/run/slothd/control.sock"),
        (nil, ["XDG_RUNTIME_DIR": "/run/user/1000"], 1000, "/run/user/1000/slothd/control.sock"),
        (nil, [:], 1000, "/tmp/slothd-1000/control.sock"),
    ] as [(String?, [String: String], UInt32, String)])
    func controlSocket(explicit: String?, environment: [String: String], uid: UInt32, expected: String) {
        #expect(SocketLocation.resolve(explicit: explicit, environment: environment, uid: uid) == expected)
    }
}

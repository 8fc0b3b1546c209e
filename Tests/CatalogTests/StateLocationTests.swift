import Catalog
import Testing

@Suite("Where the database lives")
struct StateLocationTests {
    @Test(arguments: [
        (nil, ["SLOTHD_STATE_DIR": "/srv/sloth"], UInt32(1000), "/srv/sloth"),
        ("/opt/x", ["SLOTHD_STATE_DIR": "/srv/sloth"], 1000, "/opt/x"),
        (nil, ["STATE_DIRECTORY": "/var/lib/slothd:/var/lib/other"], 0, "/var/lib/slothd"),
        (nil, [:], 0, "/var/lib/slothd"),
        (nil, ["HOME": "/home/ana", "XDG_STATE_HOME": "/home/ana/.state"], 1000, "/home/ana/.state/slothd"),
        (nil, ["HOME": "/home/ana"], 1000, "/home/ana/.local/state/slothd"),
    ] as [(String?, [String: String], UInt32, String)])
    func stateDirectory(explicit: String?, environment: [String: String], uid: UInt32, expected: String) throws {
        let location = try StateLocation.resolve(explicit: explicit, environment: environment, uid: uid)
        #expect(location.directory == expected)
        #expect(location.databasePath == expected + "/slothd.db")
    }

    @Test("a normal user without HOME gets a clear error")
    func noHome() {
        #expect(throws: StateLocation.Error.noHome) { try StateLocation.resolve(environment: [:], uid: 1000) }
    }
}

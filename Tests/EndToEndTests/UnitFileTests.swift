import Foundation
import Testing

@Suite("systemd units")
struct UnitFileTests {
    static let units = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("units")

    @Test("slothd.service, slothd.socket and slothd-agent.service pass systemd-analyze verify",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")))
    func unitsVerify() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-units-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["slothd.service", "slothd.socket", "slothd-agent.service"] {
            let text = try String(contentsOf: Self.units.appendingPathComponent(name), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/slothd", with: DaemonProcess.binary.path)
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let output = try await CLI.shell("cd \(directory.path) && systemd-analyze verify slothd.service slothd.socket slothd-agent.service 2>&1; echo exit=$?")
        #expect(output.hasSuffix("exit=0\n"), "\(output)")
        let service = try String(contentsOf: Self.units.appendingPathComponent("slothd.service"), encoding: .utf8)
        for line in ["Type=notify", "NotifyAccess=main", "WatchdogSec=", "StateDirectory=slothd", "RuntimeDirectory=slothd"] {
            #expect(service.contains(line))
        }
        let agent = try String(contentsOf: Self.units.appendingPathComponent("slothd-agent.service"), encoding: .utf8)
        for line in ["Type=notify", "LoadCredential=agent-token:", "StateDirectory=slothd-agent", "slothd agent --name"] {
            #expect(agent.contains(line))
        }
    }
}

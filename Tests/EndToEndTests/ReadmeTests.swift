import Foundation
import Testing

/// What a new user pastes from the README, and what scripts/install puts where.
@Suite("the README and scripts/install, as a new user meets them", .serialized)
struct ReadmeTests {
    static let checkout = Workspace.examples.deletingLastPathComponent()
    static let binaries = CLI.binary.deletingLastPathComponent().path

    /// The `$ ` lines of the README's console examples, in order.
    static func consoleCommands() throws -> [String] {
        let readme = try String(contentsOf: checkout.appendingPathComponent("README.md"), encoding: .utf8)
        var inConsole = false
        var commands: [String] = []
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("```") { inConsole = text == "```console"; continue }
            if inConsole, text.hasPrefix("$ ") { commands.append(String(text.dropFirst(2))) }
        }
        return commands
    }

    @Test("every README example command works when pasted in order against a fresh slothd, as . .demo/env sets it up")
    func readmeCommands() async throws {
        let commands = try Self.consoleCommands()
        #expect(commands.first == "sloth workflow add hello --file examples/hello-world.sloth")
        #expect(commands.count >= 20)
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let script = daemon.directory.appendingPathComponent("pasted.sh").path
        let setup = "set -e\ncd \(Self.checkout.path)\nexport PATH=\(Self.binaries):$PATH SLOTH_SOCKET=\(daemon.socket) SLOTHD_STATE_DIR=\(daemon.stateDirectory)\n"
        for command in commands {
            try (setup + command + "\n").write(toFile: script, atomically: true, encoding: .utf8)
            let output = try await CLI.shell("bash -o pipefail \(script) 2>&1; echo exit=$?")
            #expect(output.hasSuffix("exit=0\n"), "\(command): \(output)")
        }
        let state = try await daemon.sloth(["state", "get", "last_result"])
        #expect(state.stdout == "processed_api_data\n")
    }

    @Test("scripts/install puts binaries (their debug info apart), man pages, completions and units under PREFIX and DESTDIR, enabling nothing")
    func install() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-install-\(UUID().uuidString.prefix(8))").path
        let output = try await CLI.shell("cd \(Self.checkout.path) && BUILD_DIR=\(Self.binaries) DESTDIR=\(root) PREFIX=/opt/sloth scripts/install 2>&1; echo exit=$?")
        #expect(output.hasSuffix("exit=0\n"), "\(output)")
        for path in ["opt/sloth/bin/sloth", "opt/sloth/bin/slothd", "opt/sloth/share/man/man1/sloth.1", "opt/sloth/share/man/man8/slothd.8",
                     "opt/sloth/share/bash-completion/completions/sloth", "opt/sloth/share/zsh/site-functions/_sloth",
                     "opt/sloth/share/fish/vendor_completions.d/sloth.fish", "etc/systemd/system/slothd.socket",
                     "usr/lib/debug/opt/sloth/bin/slothd.debug"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(path)"), "\(path)")
        }
        #expect(FileManager.default.isExecutableFile(atPath: "\(root)/opt/sloth/bin/slothd"))
        let service = try String(contentsOfFile: "\(root)/etc/systemd/system/slothd.service", encoding: .utf8)
        #expect(service.contains("\nExecStart=/opt/sloth/bin/slothd\n"))
        let page = try String(contentsOfFile: "\(root)/opt/sloth/share/man/man8/slothd.8", encoding: .utf8)
        #expect(page.hasPrefix(".TH SLOTHD 8 "))
        let bash = try String(contentsOfFile: "\(root)/opt/sloth/share/bash-completion/completions/sloth", encoding: .utf8)
        #expect(bash == (try await CLI.run(["completion", "bash"])).stdout)
    }
}

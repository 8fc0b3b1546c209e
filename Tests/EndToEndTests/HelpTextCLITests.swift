import Foundation
import Testing

/// The help text is the one source of `--help`, the completion scripts and the man pages.
@Suite("help text, completions and man pages")
struct HelpTextCLITests {
    /// `BINARY --experimental-dump-help`, ArgumentParser's description of the command tree.
    static func dump(_ binary: URL) async throws -> [String: Any] {
        let json = try await CLI.shell("\(binary.path) --experimental-dump-help")
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    /// Every command and argument a reader is shown, as "sloth runs list --limit".
    static func undocumented(_ command: [String: Any], path: [String] = []) -> [String] {
        let name = command["commandName"] as? String ?? "?"
        guard name != "help" else { return [] }
        let path = path + [name]
        var missing = (command["abstract"] as? String ?? "").isEmpty ? [path.joined(separator: " ")] : []
        for argument in command["arguments"] as? [[String: Any]] ?? [] where argument["shouldDisplay"] as? Bool != false {
            guard (argument["abstract"] as? String ?? "").isEmpty else { continue }
            let names = argument["names"] as? [[String: Any]] ?? []
            missing.append((path + [names.last?["name"] as? String ?? argument["valueName"] as? String ?? "?"]).joined(separator: " "))
        }
        return missing + (command["subcommands"] as? [[String: Any]] ?? []).flatMap { undocumented($0, path: path) }
    }

    @Test("every command, option and argument of sloth and slothd has help text", arguments: [CLI.binary, DaemonProcess.binary])
    func everythingDocumented(binary: URL) async throws {
        let tree = try #require(try await Self.dump(binary)["command"] as? [String: Any])
        #expect(Self.undocumented(tree) == [])
    }

    @Test("runs list names the states --state takes, and --follow says what it does")
    func runsHelp() async throws {
        let list = try await CLI.run(["runs", "list", "--help"], environment: ["COLUMNS": "200"])
        #expect(list.stdout.contains("queued, running, succeeded, failed, timed_out, cancelled, skipped or interrupted"))
        let logs = try await CLI.run(["help", "runs", "logs"], environment: ["COLUMNS": "200"])
        #expect(logs.stdout.contains("-f, --follow  "))
        #expect(logs.stdout.contains("until the run ends"))
    }

    @Test("sloth completion SHELL prints that shell's script, which knows the subcommands", arguments: [
        ("bash", "complete -o filenames -F _sloth sloth"), ("zsh", "#compdef sloth"), ("fish", "complete -c 'sloth'"),
    ])
    func completion(shell: String, marker: String) async throws {
        let result = try await CLI.run(["completion", shell])
        #expect(result.status == 0)
        #expect(result.stdout.contains(marker))
        for word in ["scheduler", "workflow", "runs", "completion"] { #expect(result.stdout.contains(word), "\(shell): \(word)") }
        #expect(!result.stdout.contains("__manual"), "the hidden man page command is not offered")
    }

    @Test("man pages: sloth(1) from sloth's help, slothd(8) from slothd's, each listing every command and option")
    func manualPages() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-man-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let dumpFile = directory.appendingPathComponent("slothd.json").path
        _ = try await CLI.shell("\(DaemonProcess.binary.path) --experimental-dump-help > \(dumpFile)")
        let sloth = try await CLI.run(["__manual"])
        let slothd = try await CLI.run(["__manual", dumpFile])
        #expect(sloth.status == 0 && slothd.status == 0)
        #expect(sloth.stdout.hasPrefix(".TH SLOTH 1 "))
        #expect(slothd.stdout.hasPrefix(".TH SLOTHD 8 "))
        for heading in [".SS \"sloth runs logs\"", ".SS \"sloth scheduler add\"", ".SS \"sloth completion\"", ".SH SEE ALSO\n\\fBslothd(8)\\fR"] {
            #expect(sloth.stdout.contains(heading), "\(heading)")
        }
        for option in ["\\fB\\-\\-follow\\fR", "\\fB\\-\\-catchup\\-window\\fR \\fIDUR\\fR", "\\fB\\-o\\fR, \\fB\\-\\-output\\fR"] {
            #expect(sloth.stdout.contains(option), "\(option)")
        }
        #expect(!sloth.stdout.contains("__manual"))
        #expect(slothd.stdout.contains("\\fB\\-\\-shutdown\\-grace\\fR \\fISECONDS\\fR"))
        #expect(slothd.stdout.contains("SIGHUP reloads"))
        for (name, page) in [("sloth.1", sloth.stdout), ("slothd.8", slothd.stdout)] {
            let file = directory.appendingPathComponent(name).path
            try page.write(toFile: file, atomically: true, encoding: .utf8)
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/groff") else { continue }
            let warnings = try await CLI.shell("groff -mandoc -Tutf8 -ww -z \(file) 2>&1")
            #expect(warnings.isEmpty, "\(name): \(warnings)")
        }
    }

    @Test("__manual refuses what is not a help dump, exit 2")
    func manualRefusesJunk() async throws {
        let result = try await CLI.run(["__manual", "-"], stdin: "{\"nope\": 1}")
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("sloth: -: not an ArgumentParser help dump: "))
    }
}

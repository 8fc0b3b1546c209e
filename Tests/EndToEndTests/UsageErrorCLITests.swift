import Foundation
import Testing

@Suite("sloth's usage errors, as a user meets them")
struct UsageErrorCLITests {
    /// None of these reach a daemon or a database: the socket named does not exist, so a command that
    /// got past its arguments would say "cannot reach slothd" (exit 1) instead.
    static let environment = ["SLOTH_SOCKET": "/tmp/no-slothd-for-usage-tests.sock",
                              "SLOTHD_STATE_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("no-sloth-usage-state").path]

    @Test("a bad command line is one `sloth:` line on stderr naming the help to read, exit 2", arguments: [
        ("unknown subcommand", ["nosuch"], "sloth: unexpected argument 'nosuch' (see 'sloth --help')"),
        ("unknown option", ["runs", "list", "--bogus"], "sloth: unknown option '--bogus' (see 'sloth runs list --help')"),
        ("option without its value", ["runs", "list", "--limit"], "sloth: missing value for '--limit <N>' (see 'sloth runs list --help')"),
        ("negative limit", ["runs", "list", "--limit", "-3"], "sloth: --limit: -3 is not a positive number (see 'sloth runs list --help')"),
        ("zero limit", ["events", "list", "--limit", "0"], "sloth: --limit: 0 is not a positive number (see 'sloth events list --help')"),
        ("limit that is no number", ["runs", "list", "--limit", "ten"],
         "sloth: the value 'ten' is invalid for '--limit <N>' (see 'sloth runs list --help')"),
        ("negative count", ["scheduler", "next", "* * * * *", "--count", "-1"],
         "sloth: --count: -1 is out of range 1-1000 (see 'sloth scheduler next --help')"),
        ("count past the bound", ["scheduler", "next", "* * * * *", "--count", "1001"],
         "sloth: --count: 1001 is out of range 1-1000 (see 'sloth scheduler next --help')"),
        ("negative next", ["scheduler", "show", "nightly", "--next", "-1"],
         "sloth: --next: -1 is out of range 0-1000 (see 'sloth scheduler show --help')"),
        ("negative duration", ["state", "set", "k", "v", "--ttl", "-5s"], "sloth: invalid --ttl \"-5s\": unknown unit '-' (use s, m, h or d)"),
        ("missing argument", ["runs", "show"], "sloth: missing expected argument '<id>' (see 'sloth runs show --help')"),
        ("missing required option", ["workflow", "add", "hello"],
         "sloth: missing expected argument '--file <F>' (see 'sloth workflow add --help')"),
        ("alias in the help hint", ["stack", "create"], "sloth: missing expected argument '<name>' (see 'sloth stack new --help')"),
        ("missing cron expression", ["scheduler", "next"],
         "sloth: missing expected argument '<expression>' (see 'sloth scheduler next --help')"),
        ("unknown shell", ["completion", "tcsh"],
         "sloth: the value 'tcsh' is invalid for '<shell>'. Please provide one of 'bash', 'zsh' or 'fish'. (see 'sloth completion --help')"),
    ])
    func usageError(scenario: String, arguments: [String], line: String) async throws {
        let result = try await CLI.run(arguments, environment: Self.environment)
        #expect(result.status == 2, "\(scenario)")
        #expect(result.stdout.isEmpty, "\(scenario)")
        #expect(result.stderr == line + "\n", "\(scenario)")
    }

    @Test("help and version print on stdout, exit 0", arguments: [
        ("no arguments", [], "USAGE: sloth <subcommand>"),
        ("--help", ["--help"], "USAGE: sloth <subcommand>"),
        ("help for a subcommand", ["help", "runs", "list"], "USAGE: sloth runs list"),
        ("-h after a subcommand", ["scheduler", "add", "-h"], "USAGE: sloth scheduler add"),
        ("--version", ["--version"], "0.1.0"),
        ("version", ["version"], "sloth 0.1.0"),
    ])
    func helpAndVersion(scenario: String, arguments: [String], expected: String) async throws {
        let result = try await CLI.run(arguments, environment: Self.environment)
        #expect(result.status == 0, "\(scenario)")
        #expect(result.stderr.isEmpty, "\(scenario)")
        #expect(result.stdout.contains(expected), "\(scenario): \(result.stdout)")
    }

    @Test("slothd's usage errors are one line too, exit 2", arguments: [
        (["--workers", "-1"], "slothd: --workers must be at least 1"),
        (["--queue", "-5"], "slothd: --queue must be 0 or more"),
        (["--bogus"], "slothd: Unknown option '--bogus'"),
    ])
    func daemonUsageError(arguments: [String], line: String) async throws {
        let output = try await CLI.shell(([DaemonProcess.binary.path] + arguments).joined(separator: " ") + " 2>&1; echo exit=$?")
        #expect(output == line + "\nexit=2\n")
    }
}

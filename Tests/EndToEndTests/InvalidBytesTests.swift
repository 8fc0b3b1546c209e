import Control
import Foundation
import Testing

/// Invalid UTF-8 (SPEC section 10) is refused with exit 2 and where it is, never stored with U+FFFD in its
/// place: in arguments (the raw argv), in files the CLI reads, and in request bodies slothd receives.
@Suite("Invalid UTF-8 is refused, never repaired", .serialized)
struct InvalidBytesTests {
    /// Runs sloth through the shell, so arguments can hold bytes a Swift String cannot; `BAD` expands to
    /// `ok` followed by the byte 0xFF.
    static func sloth(_ daemon: DaemonProcess, _ arguments: String) async throws -> (status: Int32, stderr: String) {
        let output = try await CLI.shell("""
            BAD=$(printf 'ok\\377'); export SLOTH_SOCKET='\(daemon.socket)' SLOTHD_STATE_DIR='\(daemon.stateDirectory)'
            '\(CLI.binary.path)' \(arguments) 2>&1 >/dev/null; echo "exit=$?"
            """)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let status = lines.last { $0.hasPrefix("exit=") }.flatMap { Int32($0.dropFirst(5)) } ?? -1
        return (status, lines.filter { !$0.hasPrefix("exit=") && !$0.isEmpty }.joined(separator: "\n"))
    }

    @Test("an argument with invalid UTF-8 exits 2 naming the option and the byte", arguments: [
        ("workflow add x --file f.sloth --description \"$BAD\"", "sloth: invalid UTF-8 in --description at byte 2"),
        ("run hello --param \"k=$BAD\"", "sloth: invalid UTF-8 in --param at byte 4"),
        ("run hello \"--param=k=$BAD\"", "sloth: invalid UTF-8 in --param at byte 4"),
        ("state set \"$BAD\" value", "sloth: invalid UTF-8 in argument 3 at byte 2"),
        ("state set key \"$BAD\"", "sloth: invalid UTF-8 in argument 4 at byte 2"),
        ("stack set prod \"region=$BAD\"", "sloth: invalid UTF-8 in argument 4 at byte 9"),
        ("secrets set \"$BAD\" --from-file /dev/null", "sloth: invalid UTF-8 in argument 3 at byte 2"),
        ("scheduler add s --workflow hello --cron '@daily' --description \"$BAD\"", "sloth: invalid UTF-8 in --description at byte 2"),
    ])
    func arguments(command: String, message: String) async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let result = try await Self.sloth(daemon, command)
        #expect(result.status == 2, "\(command): \(result.stderr)")
        #expect(result.stderr == message, "\(command)")
        #expect(try await daemon.sloth(["state", "list", "-o", "json"]).stdout == "{}\n", "nothing stored")
    }

    @Test("a workflow, values or secret file with invalid UTF-8 exits 2 with the file and the byte")
    func files() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let bad = daemon.directory.appendingPathComponent("bad.bin").path
        try Data("task('a'):description('caf".utf8 + [0xC3, 0x28] + Data("')\n".utf8)).write(to: URL(fileURLWithPath: bad))
        let good = daemon.directory.appendingPathComponent("good.sloth").path
        try "task('a'):command('true')\n".write(toFile: good, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["workflow", "add", "x", "--file", bad], "sloth: invalid UTF-8 in workflow file \(bad) at byte 26\n"),
            (["run", "-f", bad], "sloth: invalid UTF-8 in workflow file \(bad) at byte 26\n"),
            (["run", "-f", good, "--values", bad], "sloth: invalid UTF-8 in values file \(bad) at byte 26\n"),
            (["secrets", "set", "token", "--from-file", bad], "sloth: invalid UTF-8 in the secret value at byte 26\n"),
        ]
        for (arguments, message) in cases {
            let result = try await daemon.sloth(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr == message, "\(arguments)")
        }
        #expect(try await daemon.sloth(["workflow", "list", "-o", "json"]).stdout == "[]\n")
        #expect(try await daemon.sloth(["secrets", "list", "-o", "json"]).stdout == "[]\n")
    }

    @Test("slothd answers 400 with the offset to a request body with invalid UTF-8, and stores nothing")
    func requestBody() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let client = HTTPClient(unixSocket: daemon.socket, timeoutSeconds: 10)
        let body = Array(#"{"name":"x","content":"task('a')","tags":[],"active":true,"description":"ok"#.utf8) + [0xFF] + Array(#""}"#.utf8)
        let answer = try client.send(.init(method: "POST", url: "http://slothd/v1/workflows", body: body))
        #expect(answer.status == 400)
        #expect(answer.text == #"{"error":{"code":"invalid","message":"invalid UTF-8 in the request body at byte 75"}}"#)
        #expect(try await daemon.sloth(["workflow", "list", "-o", "json"]).stdout == "[]\n")
    }
}

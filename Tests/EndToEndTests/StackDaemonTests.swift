import Foundation
import Testing

@Suite("Stacks and secrets through slothd", .serialized)
struct StackDaemonTests {
    static let secretsExample = Workspace.examples.appendingPathComponent("secrets.sloth").path
    static let token = "tk-9f8e7d6c5"  // 12 bytes, as the example expects; not the one in its comment

    private func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test("stack new, set, list, show and delete; a duplicate name or an unknown stack exits 2")
    func stackLifecycle() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await daemon.sloth(["stack", "new", "staging", "--description", "Staging"]).status == 0)
        let duplicate = try await daemon.sloth(["stack", "new", "staging"])
        #expect(duplicate.status == 2)
        #expect(duplicate.stderr.contains("a stack named \"staging\" already exists"))
        #expect(try await daemon.sloth(["stack", "set", "staging", "replicas=3", "region=eu-west", "debug=true"]).status == 0)
        #expect(try await daemon.sloth(["stack", "unset", "staging", "debug"]).status == 0)
        let shown = json(try await daemon.sloth(["stack", "show", "staging", "-o", "json"]).stdout)
        #expect(shown.at("values.replicas") as? Int == 3)
        #expect(shown.at("values.region") as? String == "eu-west")
        #expect(shown.at("values.debug") == nil)
        let list = try await daemon.sloth(["stack", "list"])
        #expect(list.stdout.contains("staging") && list.stdout.contains("Staging"))
        #expect(try await daemon.sloth(["stack", "show", "nope"]).status == 2)
        #expect(try await daemon.sloth(["runs", "list", "--stack", "nope"]).status == 2)
        #expect(try await daemon.sloth(["stack", "set", "staging", "novalue"]).status == 2)
        #expect(try await daemon.sloth(["stack", "delete", "staging"]).status == 0)
        #expect(try await daemon.sloth(["stack", "show", "staging"]).status == 2)
    }

    @Test("a secret set from stdin: read by a run through slothd and by a local run, masked in logs, sealed on disk")
    func secretsEndToEnd() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        #expect(try await daemon.sloth(["stack", "new", "demo"]).status == 0)
        let set = try await daemon.sloth(["secrets", "set", "api_token", "--stack", "demo"], stdin: Self.token + "\n")
        #expect(set.status == 0, "\(set.stderr)")
        #expect(!set.stdout.contains(Self.token))
        let listed = try await daemon.sloth(["secrets", "list"])
        #expect(listed.stdout.contains("api_token") && listed.stdout.contains("demo") && !listed.stdout.contains(Self.token))
        #expect(try await daemon.sloth(["secrets", "get", "api_token", "--stack", "demo"]).stdout == Self.token)
        let unknown = try await daemon.sloth(["secrets", "get", "nope", "--stack", "demo"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no secret named \"nope\" in stack \"demo\""))

        #expect(try await daemon.sloth(["workflow", "add", "secrets_demo", "--file", Self.secretsExample]).status == 0)
        let remote = try await daemon.sloth(["run", "secrets_demo", "--stack", "demo", "-o", "json"])
        #expect(remote.status == 0, "\(remote.stderr)")
        let remoteRun = json(remote.stdout)
        #expect(remoteRun.at("stack.name") as? String == "demo")
        let runID = try #require(remoteRun["run_id"] as? Int)
        let logs = try await daemon.sloth(["runs", "logs", String(runID)])
        #expect(logs.stdout.contains("using token ***"))
        #expect(!logs.stdout.contains(Self.token) && !remote.stdout.contains(Self.token) && !remote.stderr.contains(Self.token))

        let local = try await daemon.sloth(["run", "-f", Self.secretsExample, "--stack", "demo", "-o", "json"])
        #expect(local.status == 0, "\(local.stderr)")
        #expect(json(local.stdout).at("tasks.use_secret.output.length") as? Int == 12)
        #expect(local.stderr.contains("using token ***") && !local.stderr.contains(Self.token))

        let keyMode = try FileManager.default.attributesOfItem(atPath: daemon.stateDirectory + "/secrets.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let leaks = try await CLI.shell("grep -rl '\(Self.token)' \(daemon.stateDirectory) || true")
        #expect(leaks.isEmpty, "files holding the plaintext: \(leaks)")

        let events = try await daemon.sloth(["events", "list", "--type", "secret.*", "-o", "json"])
        let types = ((try? JSONSerialization.jsonObject(with: Data(events.stdout.utf8))) as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        #expect(types.contains("secret.created") && types.contains("secret.accessed") && types.allSatisfy { $0.hasPrefix("secret.") })
        #expect(!events.stdout.contains(Self.token), "events never carry the value")
        #expect(try await daemon.sloth(["events", "list", "--type", "stack.created"]).stdout.contains("demo"))
        #expect(try await daemon.sloth(["events", "cleanup", "--older-than", "soon"]).status == 2)

        let keyBefore = try String(contentsOfFile: daemon.stateDirectory + "/secrets.key", encoding: .utf8)
        let rekey = try await daemon.sloth(["secrets", "rekey"])
        #expect(rekey.status == 0 && rekey.stdout.contains("1 secrets re-sealed"), "\(rekey.stderr)")
        #expect(try String(contentsOfFile: daemon.stateDirectory + "/secrets.key", encoding: .utf8) != keyBefore)
        #expect(try await daemon.sloth(["secrets", "get", "api_token", "--stack", "demo"]).stdout == Self.token)
        #expect(try await daemon.sloth(["run", "-f", Self.secretsExample, "--stack", "demo", "-o", "json"]).status == 0,
                "a local run reads the rotated key")

        let refused = try await daemon.sloth(["stack", "delete", "demo"])
        #expect(refused.status == 2 && refused.stderr.contains("--force"))
        #expect(try await daemon.sloth(["stack", "delete", "demo", "--force"]).status == 0)
        #expect(try await daemon.sloth(["secrets", "list", "-o", "json"]).stdout == "[]\n")
    }

    @Test("the active stack is used when --stack is omitted, by runs and schedules alike")
    func activeStack() async throws {
        let daemon = try DaemonProcess()
        try #require(daemon.waitUntilReady() != nil)
        let file = daemon.directory.appendingPathComponent("values.sloth").path
        try "task('v'):command(function() state.set('seen', values.region) return true, 'ok', { region = values.region, stack = stack.name } end)\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await daemon.sloth(["stack", "new", "prod"]).status == 0)
        #expect(try await daemon.sloth(["stack", "set", "prod", "region=eu"]).status == 0)
        #expect(try await daemon.sloth(["stack", "activate", "prod"]).status == 0)
        #expect(try await daemon.sloth(["stack", "list"]).stdout.contains("prod  *"))
        #expect(try await daemon.sloth(["workflow", "add", "values", "--file", file]).status == 0)
        let run = json(try await daemon.sloth(["run", "values", "-o", "json"]).stdout)
        #expect(run.at("stack.name") as? String == "prod")
        #expect(try await daemon.sloth(["state", "get", "seen"]).stdout == "eu\n", "state is read in the active stack")
        #expect(try await daemon.sloth(["state", "get", "seen", "--stack", ""]).status == 2, "no such key outside the stack")
        #expect(try await daemon.sloth(["scheduler", "add", "nightly", "--workflow", "values", "--cron", "0 3 * * *"]).status == 0)
        let schedule = json(try await daemon.sloth(["scheduler", "show", "nightly", "-o", "json"]).stdout)
        #expect(schedule["stack"] as? String == "prod")
        let inUse = try await daemon.sloth(["stack", "delete", "prod", "--force"])
        #expect(inUse.status == 2 && inUse.stderr.contains("nightly"))
        let local = json(try await daemon.sloth(["run", "-f", file, "-o", "json"]).stdout)
        #expect(local.at("stack.name") as? String == "prod")
        #expect(local.at("tasks.v.output.region") as? String == "eu")
    }
}

import Foundation
import Testing

/// Agents' tokens, TLS, cancel, commands and silence, with real processes (SPEC section 8).
@Suite("Agents: trust, cancel, commands and silence", .serialized)
struct AgentTrustTests {
    private func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    private func events(_ master: AgentMaster, _ type: String) async throws -> [[String: Any]] {
        let listed = try await master.daemon.sloth(["events", "list", "--type", type, "-o", "json"])
        return (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
    }

    @Test("a wrong, a revoked and another agent's token are refused with agent.auth_failed; a readable token file stops the agent")
    func tokensRefused() async throws {
        let master = try AgentMaster()
        let wrong = try AgentProcess(name: "web-01", master: master.address, token: "sat_not-a-token")
        #expect(!wrong.waitUntilConnected(timeout: 3))
        let token = try await master.token(for: "web-02")
        let listed = try await master.daemon.sloth(["agent", "token", "list", "-o", "json"])
        let id = try #require(((try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]])?.first?["id"] as? Int)
        #expect(!listed.stdout.contains(token), "a token's text is shown once only")
        let misnamed = try AgentProcess(name: "web-03", master: master.address, token: token)
        #expect(!misnamed.waitUntilConnected(timeout: 3))
        #expect(try await master.daemon.sloth(["agent", "token", "revoke", String(id)]).status == 0)
        let revoked = try AgentProcess(name: "web-02", master: master.address, token: token)
        #expect(!revoked.waitUntilConnected(timeout: 3))
        let reasons = try await events(master, "agent.auth_failed").compactMap { $0.at("data.reason") as? String }
        #expect(reasons.contains("unknown token"))
        #expect(reasons.contains { $0.contains("belongs to agent \"web-02\"") })
        #expect(reasons.contains { $0.contains("was revoked") })
        #expect(revoked.log.contains("refused"), "\(revoked.log)")
        let open = try AgentProcess(name: "web-04", master: master.address, token: token, tokenMode: 0o644)
        #expect(await open.exitStatus() == 2)
        #expect(open.log.contains("chmod 600"))
    }

    @Test("runs cancel of a delegated task kills its process group on the agent")
    func cancelKillsTheGroupOnTheAgent() async throws {
        let master = try AgentMaster()
        let agent = try await master.agent("web-01")
        let (runID, pid) = try await master.startSleepingTask(named: "long", on: "web-01", seconds: 60)
        #expect(kill(pid, 0) == 0)
        #expect(try await master.daemon.sloth(["runs", "cancel", String(runID)]).status == 0)
        let ended = try await master.daemon.sloth(["runs", "logs", String(runID), "--follow"])
        #expect(json(try await master.daemon.sloth(["runs", "show", String(runID), "-o", "json"]).stdout)["state"] as? String == "cancelled",
                "\(ended.stdout)")
        #expect(try await AgentMaster.gone(pid, within: 5), "the job's process outlived its cancel on the agent")
        _ = agent
    }

    @Test("sloth agent run streams the command's output and passes its exit status; 4 when the agent is not connected")
    func agentRun() async throws {
        let master = try AgentMaster()
        let agent = try await master.agent("web-01")
        let ran = try await master.daemon.sloth(["agent", "run", "web-01", "echo out-line; echo err-line >&2; exit 7"])
        #expect(ran.status == 7)
        #expect(ran.stdout == "out-line\n")
        #expect(ran.stderr.contains("err-line"))
        let clean = try await master.daemon.sloth(["agent", "run", "web-01", "printf abc"])
        #expect(clean.status == 0)
        #expect(clean.stdout == "abc\n", "output goes line by line (an unfinished last line is ended); nothing after it")
        let absent = try await master.daemon.sloth(["agent", "run", "db-09", "true"])
        #expect(absent.status == 4)
        #expect(absent.stderr.contains("agent \"db-09\" is not connected"))
        _ = agent
    }

    @Test("an agent silent for 15 s is disconnected and its task lost; when it comes back, its stale task is cancelled")
    func silentAgentIsLostAndItsStaleTaskCancelled() async throws {
        let master = try AgentMaster()
        let agent = try await master.agent("web-01")
        let (runID, pid) = try await master.startSleepingTask(named: "stuck", on: "web-01", seconds: 120)
        // Stopped, not killed: its TCP connection stays open, only heartbeats stop (like a cut network).
        agent.signal(SIGSTOP)
        _ = try await master.daemon.sloth(["runs", "logs", String(runID), "--follow"])
        let shown = json(try await master.daemon.sloth(["runs", "show", String(runID), "-o", "json"]).stdout)
        #expect((shown.at("tasks.stuck.error") as? String ?? "").hasPrefix("agent_lost: agent web-01 was silent for 15 s"), "\(shown)")
        #expect(try await events(master, "agent.heartbeat_failed").count == 1)
        agent.signal(SIGCONT)
        #expect(agent.waitUntilConnected(timeout: 40), "\(agent.log)")
        #expect(try await AgentMaster.gone(pid), "the stale task still runs on the agent: \(agent.log)")
        #expect(agent.log.contains("is no longer the master's: cancelled"))
    }

    @Test("TLS with certificates made by openssl: mutual TLS connects; an agent without a client certificate is refused")
    func mutualTLS() async throws {
        let pki = FileManager.default.temporaryDirectory.appendingPathComponent("slothd-pki-\(UUID().uuidString.prefix(8))").path
        let made = try await CLI.shell("""
            set -e; mkdir -p \(pki); cd \(pki)
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=slothd-test-ca 2>/dev/null
            for who in master agent; do
              openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr -subj /CN=$who 2>/dev/null
              printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth,clientAuth\\n' > $who.ext
              openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $who.pem -days 2 -extfile $who.ext 2>/dev/null
            done
            echo ok
            """)
        try #require(made.contains("ok"), "openssl could not make the test certificates")
        let master = try AgentMaster(extraArguments: ["--tls-cert", "\(pki)/master.pem", "--tls-key", "\(pki)/master.key", "--tls-ca", "\(pki)/ca.pem"])
        let token = try await master.token(for: "web-01")
        let mutual = try AgentProcess(name: "web-01", master: master.address, token: token,
                                      extraArguments: ["--tls-ca", "\(pki)/ca.pem", "--tls-cert", "\(pki)/agent.pem", "--tls-key", "\(pki)/agent.key"])
        #expect(mutual.waitUntilConnected(), "\(mutual.log)")
        let anonymous = try AgentProcess(name: "web-01", master: master.address, token: token, extraArguments: ["--tls-ca", "\(pki)/ca.pem"])
        #expect(!anonymous.waitUntilConnected(timeout: 3))
        let plaintext = try AgentProcess(name: "web-01", master: master.address, token: token)
        #expect(!plaintext.waitUntilConnected(timeout: 3))
    }
}

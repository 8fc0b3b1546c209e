import Foundation
import Runner
import Testing

/// docker, incus, terraform, pulumi and the cloud CLIs against fake tools that log their argv.
@Suite("Infrastructure modules over fake tools")
struct CloudModulesTests {
    /// One `#!/bin/sh` script installed under every tool's name: it appends `tool args` to $FAKE_LOG and
    /// answers by `case`. The fake `docker login` succeeds only when the password arrives on stdin.
    static let script = """
        #!/bin/sh
        echo "$(basename "$0") $*" >> "$FAKE_LOG"
        case "$(basename "$0") $*" in
          "docker inspect --type container existing") echo '[{"Id":"abc123"}]' ;;
          "docker inspect"*) echo "Error: No such object" >&2; exit 1 ;;
          "docker run"*) echo "newid42" ;;
          "docker login"*) [ "$(cat)" = "s3cret" ] || { echo "no password on stdin" >&2; exit 1; } ;;
          "docker pull"*) echo "Downloaded newer image" ;;
          "incus info"*) echo "Error: Not Found" >&2; exit 1 ;;
          "terraform -chdir=/infra plan"*) echo "Plan: 1 to add, 0 to change, 0 to destroy."; exit 2 ;;
          "terraform -chdir=/infra output"*) echo '{"ip":{"sensitive":false,"type":"string","value":"10.0.0.5"}}' ;;
          "aws s3api create-bucket"*) echo '{"Location":"/b"}' ;;
          "doctl compute load-balancer create"*) echo '[{"id":"lb-1","name":"web-lb"}]' ;;
          *) ;;
        esac
        """

    /// A temporary directory of fakes and the log they write to.
    static func fakes() throws -> (dir: String, log: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-fakes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for tool in ["docker", "incus", "terraform", "pulumi", "aws", "az", "gcloud", "doctl"] {
            let path = dir.appendingPathComponent(tool).path
            FileManager.default.createFile(atPath: path, contents: Data(script.utf8), attributes: [.posixPermissions: 0o755])
        }
        return (dir.path, dir.appendingPathComponent("calls.log").path)
    }

    @Test("each call runs the argv it should and answers from the tool", arguments: [
        ("docker.container_run builds run's flags from the options", """
            local r = docker.container_run("nginx:latest", { name = "web", ports = { "80:80" }, env = { A = "1" }, restart = "always" })
            return true, "ok", { result = r.id .. " " .. tostring(r.changed) }
            """, "newid42 true", [
                "docker inspect --type container web",
                "docker run -d --name web -p 80:80 -e A=1 --restart always nginx:latest",
            ]),
        ("docker.container_run starts an existing container instead of running a new one", """
            local r = docker.container_run("nginx:latest", { name = "existing", ports = { "80:80" } })
            return true, "ok", { result = r.id .. " " .. tostring(r.changed) }
            """, "abc123 false", ["docker inspect --type container existing", "docker start existing"]),
        ("docker.image_pull logs in with the password on stdin, never in argv", """
            local r = docker.image_pull("registry.example.com/app:v1", { auth = { username = "u", password = "s3cret" } })
            return true, "ok", { result = tostring(r.changed) .. " " .. tostring(fs.read(LOG):find("s3cret", 1, true) == nil) }
            """, "true true", [
                "docker login -u u --password-stdin registry.example.com",
                "docker pull registry.example.com/app:v1",
            ]),
        ("docker.compose_up detaches by default and builds when asked", """
            local r = docker.compose_up("docker-compose.yml", { project_name = "myapp", build = true })
            return true, "ok", { result = tostring(r.changed) }
            """, "true", ["docker compose -f docker-compose.yml -p myapp up -d --build"]),
        ("incus fluent launch creates, adds the proxy device, then starts", """
            local r = incus.instance("web-01"):image("ubuntu:22.04"):profile("default"):config({ ["limits.cpu"] = "2" })
              :proxy("http", "tcp:0.0.0.0:80", "tcp:127.0.0.1:8080"):launch()
            return true, "ok", { result = r.name .. " " .. tostring(r.changed) }
            """, "web-01 true", [
                "incus info web-01",
                "incus create ubuntu:22.04 web-01 -p default -c limits.cpu=2",
                "incus config device add web-01 http proxy connect=tcp:127.0.0.1:8080 listen=tcp:0.0.0.0:80",
                "incus start web-01",
            ]),
        ("incus delegate_to on one call goes to that agent, and nothing runs here; without agents it says so", """
            local r, err = incus.instance("web-01"):image("ubuntu:22.04"):delegate_to("lxd-host"):launch()
            return true, "ok", { result = tostring(r) .. " " .. err }
            """, "nil incus.launch on lxd-host: agent_unavailable: no eligible agent for agent \"lxd-host\" (only a slothd started with --agents-listen has agents)", []),
        ("terraform.plan reads exit 2 and the Plan line as changes", """
            local p = terraform.plan("/infra", { vars = { env = "prod" }, out = "tfplan" })
            return true, "ok", { result = p.changes .. " " .. p.add .. " " .. p.destroy }
            """, "1 1 0", ["terraform -chdir=/infra plan -var env=prod -out=tfplan -detailed-exitcode -input=false -no-color"]),
        ("terraform.output unwraps each output's value", """
            local o = terraform.output("/infra")
            return true, "ok", { result = o.ip }
            """, "10.0.0.5", ["terraform -chdir=/infra output -json -no-color"]),
        ("pulumi.up without yes = true only previews", """
            local r = pulumi.up({ stack = "prod" })
            return true, "ok", { result = tostring(r.preview) }
            """, "true", ["pulumi preview --stack prod --non-interactive"]),
        ("aws.s3_bucket_create names a LocationConstraint except in us-east-1", """
            aws.s3_bucket_create("b1", { region = "eu-west-1", versioning = true })
            local r = aws.s3_bucket_create("b2", { region = "us-east-1" })
            return true, "ok", { result = r.bucket .. " " .. tostring(r.changed) }
            """, "b2 true", [
                "aws s3api create-bucket --region eu-west-1 --bucket b1 --create-bucket-configuration LocationConstraint=eu-west-1 --output json",
                "aws s3api put-bucket-versioning --region eu-west-1 --bucket b1 --versioning-configuration Status=Enabled",
                "aws s3api create-bucket --region us-east-1 --bucket b2 --output json",
            ]),
        ("digitalocean.loadbalancer_create writes doctl's forwarding rules", """
            local r = digitalocean.loadbalancer_create({ name = "web-lb", region = "nyc3", droplet_ids = { 1, 2 }, forwarding_rules = {
              { entry_protocol = "https", entry_port = 443, target_protocol = "http", target_port = 80, tls_passthrough = false },
              { entry_protocol = "http", entry_port = 80, target_protocol = "http", target_port = 8080 } } })
            return true, "ok", { result = r.id }
            """, "lb-1", [
                "doctl compute load-balancer create --name web-lb --region nyc3 --forwarding-rules entry_protocol:https,entry_port:443,target_protocol:http,target_port:80,tls_passthrough:false entry_protocol:http,entry_port:80,target_protocol:http,target_port:8080,tls_passthrough:false --droplet-ids 1,2 --output json",
            ]),
        ("a tool missing from PATH fails with its name", """
            env.set("PATH", "/nonexistent")
            local r, err = docker.container_list()
            local t, terr = terraform.plan("/infra")
            return true, "ok", { result = tostring(r) .. " " .. err .. "; " .. tostring(t) .. " " .. terr }
            """, "nil docker: not found on PATH; nil terraform: not found on PATH", []),
    ] as [(String, String, String, [String])])
    func calls(_ scenario: String, body: String, expected: String, argv: [String]) async throws {
        let (dir, log) = try Self.fakes()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prelude = """
            env.set("PATH", "\(dir):/usr/bin:/bin")
            env.set("FAKE_LOG", "\(log)")
            local LOG = "\(log)"
            """
        let output = try await RunHarness().output(of: prelude + "\n" + body)
        #expect(output["result"].string == expected, "\(scenario)")
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        #expect(lines == argv, "\(scenario)")
    }
}

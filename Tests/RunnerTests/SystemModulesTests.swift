import Foundation
import Runner
import Testing

/// pkg, user, systemd, ssh, stow, python and salt over fake tools first on PATH that record their argv,
/// so nothing touches the host; git on real repositories made by the test.
@Suite("System modules over fake tools, git on real repositories")
struct SystemModulesTests {
    /// The fakes: each logs `name args` and answers by its arguments.
    static let fakes: [String: String] = [
        "apt-get": "exit 0",
        "dpkg-query": #"case "$*" in *curl) printf 'install ok installed\t7.88' ;; *) exit 1 ;; esac"#,
        "pacman": #"case "$*" in "-Q curl") echo "curl 8.1" ;; -Q*) exit 1 ;; esac"#,
        "getent": #"case "$*" in "passwd deploy") echo "deploy:x:1001:1001:Deploy:/home/deploy:/bin/bash" ;; *) exit 2 ;; esac"#,
        "useradd": "exit 0", "userdel": "exit 0", "chpasswd": #"cat > "$FAKE_LOG.stdin""#, "id": "echo deploy docker",
        "systemctl": #"case "$*" in "show nginx"*) printf 'ActiveState=active\nSubState=running\nUnitFileState=enabled\nDescription=web\nMainPID=42\n' ;; "is-enabled --quiet nginx") exit 0 ;; is-*) exit 3 ;; esac"#,
        "ssh": "echo remote-out", "scp": "exit 0", "stow": "exit 0",
        "salt-call": #"echo '{"local": {"file_|-x": {"result": true, "changes": {}}}}'"#,
    ]

    static func workflow(_ body: String, directory: URL) throws -> String {
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for (name, answer) in fakes {
            let path = bin.appendingPathComponent(name).path
            try "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> \"$FAKE_LOG\"\n\(answer)\n".write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        return """
            env.set("PATH", "\(bin.path):/usr/bin:/bin")
            env.set("FAKE_LOG", "\(directory.path)/argv.log")
            \(body)
            """
    }

    @Test("each call runs the right tool once, with the right argv, and says what changed", arguments: [
        ("pkg.install installs only what is missing", """
            local r = pkg.install({ "curl", "nginx" })
            return true, "ok", { result = tostring(r.changed) .. " " .. table.concat(r.packages, ",") }
            """, "true nginx", ["dpkg-query -W -f ${Status}\t${Version} curl", "dpkg-query -W -f ${Status}\t${Version} nginx",
                                "apt-get install -y nginx"]),
        ("pkg.install of what is there changes nothing", """
            local r = pkg.install("curl")
            return true, "ok", { result = tostring(r.changed) .. " " .. tostring(pkg.info("curl").version) }
            """, "false 7.88", ["dpkg-query -W -f ${Status}\t${Version} curl", "dpkg-query -W -f ${Status}\t${Version} curl"]),
        ("pkg on pacman, chosen by opts.manager", """
            local r = pkg.install({ "curl", "vim" }, { manager = "pacman" })
            return true, "ok", { result = table.concat(r.packages, ",") }
            """, "vim", ["pacman -Q curl", "pacman -Q vim", "pacman -S --noconfirm --needed vim"]),
        ("user.create of an existing user changes nothing; set_password keeps the password out of argv", """
            local a = user.create("deploy", { shell = "/bin/bash" })
            local b = user.create("ana", { groups = { "sudo", "docker" }, system = true, password = "s3cret" })
            return true, "ok", { result = tostring(a.changed) .. " " .. tostring(b.changed) .. " " .. user.info("deploy").home }
            """, "false true /home/deploy", ["getent passwd deploy", "getent passwd ana", "useradd --groups sudo,docker --system ana",
                                             "chpasswd ", "getent passwd deploy", "id -nG deploy"]),
        ("systemd.status reads systemctl show; enable of an enabled unit changes nothing; start of a stopped one starts it", """
            local s = systemd.status("nginx")
            local e, st = systemd.enable("nginx"), systemd.service_start("api")
            return true, "ok", { result = table.concat({ tostring(s.active), s.sub_state, s.pid, tostring(e.changed), tostring(st.changed) }, " ") }
            """, "true running 42 false true", ["systemctl show nginx --property=ActiveState,SubState,UnitFileState,Description,MainPID",
                                               "systemctl is-enabled --quiet nginx", "systemctl is-active --quiet api", "systemctl start api"]),
        ("ssh.exec runs non-interactively on the port and key given; scp for uploads", """
            local r = ssh.exec("ops@db1", "uptime", { port = 2222, key = "/k/id" })
            ssh.upload({ host = "db1", user = "ops" }, "/tmp/a", "/srv/a")
            return true, "ok", { result = r.stdout }
            """, "remote-out\n", ["ssh -o BatchMode=yes -o ConnectTimeout=30 -o StrictHostKeyChecking=accept-new -p 2222 -i /k/id ops@db1 -- uptime",
                                  "scp -o BatchMode=yes -o ConnectTimeout=30 -o StrictHostKeyChecking=accept-new -r /tmp/a ops@db1:/srv/a"]),
        ("stow links a package of a dotfiles directory", """
            stow.link("/home/u/.dotfiles/vim", "/home/u"); stow.restow("/home/u/.dotfiles/zsh", "/home/u")
            return true, "ok", { result = "done" }
            """, "done", ["stow -d /home/u/.dotfiles -t /home/u vim", "stow -d /home/u/.dotfiles -t /home/u -R zsh"]),
        ("salt.state_apply decodes salt's JSON and passes the pillar as JSON", """
            local r = salt.state_apply("webserver", { pillar = { port = 80 } })
            return true, "ok", { result = tostring(r["local"]["file_|-x"].result) }
            """, "true", [#"salt-call --local state.apply webserver pillar={"port":80} --out=json"#]),
        ("facts.get_package asks the package manager, facts.get_service systemctl", """
            local p, s = facts.get_package({ name = "curl" }), facts.get_service("nginx")
            return true, "ok", { result = table.concat({ tostring(p.installed), p.version, s.status, tostring(s.enabled) }, " ") }
            """, "true 7.88 active true", ["dpkg-query -W -f ${Status}\t${Version} curl",
                                          "systemctl show nginx --property=ActiveState,SubState,UnitFileState,Description,MainPID"]),
    ])
    func calls(_ scenario: String, body: String, expected: String, argv: [String]) async throws {
        let harness = try RunHarness()
        let output = try await harness.output(of: try Self.workflow(body, directory: harness.directory))
        #expect(output["result"].string == expected, "\(scenario)")
        let log = (try? String(contentsOfFile: harness.directory.appendingPathComponent("argv.log").path, encoding: .utf8)) ?? ""
        #expect(log.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) == argv, "\(scenario)")
        if scenario.contains("set_password") {
            #expect(!log.contains("s3cret"))
            #expect(try String(contentsOfFile: harness.directory.appendingPathComponent("argv.log.stdin").path, encoding: .utf8) == "ana:s3cret\n")
        }
    }

    @Test("facts read this host in both references' shapes; an agent needs a master with agents")
    func hostFacts() async throws {
        let output = try await RunHarness().output(of: """
            local all, memory, disks, nets = facts.gather(), system.memory(), facts.disk(), facts.get_network()
            local loopback
            for _, n in ipairs(nets) do if n.loopback then loopback = n end end
            local _, err = facts.get_memory({ agent = "web-01" })
            return true, "ok", {
              os = all.os.name, platform = facts.get_all().platform.os, kernel = all.kernel.version ~= "",
              cores = all.cpu.cores >= 1 and system.cpu_count() == all.cpu.cores, hostname = all.hostname ~= "",
              memory = memory.total > 0 and memory.available <= memory.total and memory.used_percent > 0 and memory.used_percent < 100,
              root = #disks > 0 and disks[1].total > 0 and disks[1].used_percent >= 0,
              loopback = loopback ~= nil and loopback.ipv4[1] == "127.0.0.1/8",
              uptime = facts.uptime() > 0, agent = err }
            """)
        #expect(output["os"].string == "linux" && output["platform"].string == "linux")
        for key in ["kernel", "cores", "hostname", "memory", "root", "loopback", "uptime"] {
            #expect(output[key] == .boolean(true), "\(key)")
        }
        #expect(output["agent"].string?.hasPrefix("facts.get_memory on web-01: agent_unavailable") == true, "\(output["agent"])")
    }

    @Test("with no package manager on PATH, pkg says which it looked for")
    func noManager() async throws {
        let output = try await RunHarness().output(of: """
            env.set("PATH", "/nonexistent")
            local ok, err = pkg.install("curl")
            return true, "ok", { result = tostring(ok) .. " " .. err }
            """)
        #expect(output["result"].string == "nil pkg: no package manager found (looked for apt-get, dnf, yum, pacman, apk, brew)")
    }

    @Test("systemd.create_service writes the unit once, then finds it unchanged")
    func createService() async throws {
        let harness = try RunHarness()
        let output = try await harness.output(of: try Self.workflow("""
            local spec = { description = "API", exec_start = "/usr/bin/api", user = "api", dir = "\(harness.directory.path)" }
            local a, b = systemd.create_service("api", spec), systemd.create_service("api", spec)
            return true, "ok", { result = tostring(a.changed) .. " " .. tostring(b.changed) }
            """, directory: harness.directory))
        #expect(output["result"].string == "true false")
        let unit = try String(contentsOfFile: harness.directory.appendingPathComponent("api.service").path, encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/api\nUser=api\n"))
    }

    @Test("git: clone is idempotent, commit and push reach the origin, status and log read the repository")
    func gitRoundTrip() async throws {
        let harness = try RunHarness()
        let root = harness.directory.path
        let output = try await harness.output(of: """
            env.set("HOME", "\(root)"); env.set("GIT_AUTHOR_NAME", "T"); env.set("GIT_AUTHOR_EMAIL", "t@x")
            env.set("GIT_COMMITTER_NAME", "T"); env.set("GIT_COMMITTER_EMAIL", "t@x")
            assert(exec.run({ "git", "-c", "init.defaultBranch=main", "init", "-q", "--bare", "\(root)/origin.git" }).success)
            local first = assert(git.clone("\(root)/origin.git", "\(root)/work"))
            local again = assert(git.clone({ url = "\(root)/origin.git", local_path = "\(root)/work" }))
            fs.write("\(root)/work/a.txt", "hello")
            local dirty = git.status({ path = "\(root)/work" })
            local commit = assert(git.commit("\(root)/work", "add a", { add_all = true }))
            local nothing = assert(git.commit({ path = "\(root)/work", message = "again", add_all = true }))
            assert(git.push({ path = "\(root)/work", remote = "origin", branch = "HEAD:main" }))
            local other = assert(git.clone({ url = "\(root)/origin.git", local_path = "\(root)/other", branch = "main" }))
            local log = git.log({ path = "\(root)/other", limit = 5 })
            local pulled, listed = assert(git.pull("\(root)/other")), git.log("\(root)/other")
            return true, "ok", { result = table.concat({ tostring(first.changed), tostring(again.changed), tostring(dirty.is_clean),
              #dirty.untracked, tostring(commit.changed), tostring(nothing.changed), log[1].message, tostring(git.is_repo("\(root)/other")),
              tostring(pulled.changed), #listed }, " ") }
            """)
        #expect(output["result"].string == "true false false 1 true false add a true false 1")
    }
}

import Foundation
import Runner
import Testing
import TestSupport

/// database against a real SQLite file and a real PostgreSQL server; notify against loopback HTTP and
/// SMTP servers that keep what they were sent.
@Suite("database and notify against real servers")
struct DatabaseNotifyTests {
    /// The reference's migration example, then inserts, a query with a parameter, a failing transaction
    /// that leaves nothing behind, a prepared statement and a ping.
    static func session(driver: String, dsn: String) -> String {
        """
        assert(db.connect("app", "\(driver)", "\(dsn)"))
        db.exec("app", "DROP TABLE IF EXISTS itest_users")
        local migration = db.transaction("app", {
          { query = "CREATE TABLE itest_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE NOT NULL, score REAL)" },
        })
        assert(migration.success, migration.error)
        local inserted = assert(db.exec("app", "INSERT INTO itest_users (id, name, email, score) VALUES (?, ?, ?, ?)", { 1, "Ana", "ana@example.com", 1.5 }))
        db.exec("app", "INSERT INTO itest_users (id, name, email) VALUES (?, ?, ?)", { 2, "Bo", "bo@example.com" })
        local failed = db.transaction("app", {
          { query = "INSERT INTO itest_users (id, name, email) VALUES (?, ?, ?)", params = { 3, "Cy", "cy@example.com" } },
          { query = "INSERT INTO itest_users (id, name, email) VALUES (?, ?, ?)", params = { 4, "Dup", "ana@example.com" } },
        })
        local stmt = db.prepare("app", "SELECT name, score FROM itest_users WHERE email = ?")
        local ana = db.query("app", stmt, { "ana@example.com" })[1]
        local count = db.query("app", "SELECT COUNT(*) AS n FROM itest_users", {})[1].n
        local missing, err = db.query("nope", "SELECT 1")
        local parts = { inserted.rows_affected, ana.name, ana.score, count, tostring(failed.success), tostring(db.ping("app")),
                        tostring(missing), tostring(err:find("no connection named 'nope'") ~= nil) }
        db.exec("app", "DROP TABLE itest_users")
        db.disconnect("app")
        for i, v in ipairs(parts) do parts[i] = tostring(v) end
        return true, "ok", { result = table.concat(parts, " ") }
        """
    }

    @Test("SQLite: exec, query with parameters, an all-or-nothing transaction, prepare, ping")
    func sqlite() async throws {
        let harness = try RunHarness()
        let path = harness.directory.appendingPathComponent("app.db").path
        let output = try await harness.output(of: Self.session(driver: "sqlite3", dsn: path))
        #expect(output["result"].string == "1 Ana 1.5 2 false true nil true")
    }

    @Test("PostgreSQL: the same session, `?` placeholders and all",
          .enabled(if: ProcessInfo.processInfo.environment["SLOTH_TEST_POSTGRES_DSN"] != nil,
                   "no PostgreSQL server: set SLOTH_TEST_POSTGRES_DSN (scripts/test starts one with scripts/test-postgres)"))
    func postgres() async throws {
        let dsn = ProcessInfo.processInfo.environment["SLOTH_TEST_POSTGRES_DSN"]!
        let output = try await RunHarness().output(of: Self.session(driver: "postgres", dsn: dsn))
        #expect(output["result"].string == "1 Ana 1.5 2 false true nil true")
    }

    @Test("a connection that cannot be made says where and why", arguments: [
        ("postgres", "host=127.0.0.1 port=1 user=x dbname=y sslmode=disable", "postgres: cannot connect to 127.0.0.1:1"),
        ("mysql", "u:p@tcp(localhost:3306)/db", "MySQL/MariaDB are not built into slothd"),
        ("oracle", "x", "unknown driver 'oracle'"),
        ("postgres", "host=h port=abc", "port 'abc' is not a number"),
    ])
    func connectFailures(driver: String, dsn: String, message: String) async throws {
        let output = try await RunHarness().output(of: """
            local ok, err = db.connect("x", "\(driver)", "\(dsn)")
            return true, "ok", { result = tostring(ok) .. " " .. tostring(err) }
            """)
        #expect(output["result"].string?.hasPrefix("nil ") == true)
        #expect(output["result"].string?.contains(message) == true, "\(output["result"].string ?? "")")
    }

    @Test("each webhook service gets its own JSON shape", arguments: [
        ("notify.slack(URL, { text = 'deployed', channel = '#ops' })", "POST /hook", "\"text\":\"deployed\""),
        ("notifications.slack(URL, 'deployed', { username = 'Sloth Runner' })", "POST /hook", "\"username\":\"Sloth Runner\""),
        ("notify.discord(URL, { content = 'done', embeds = { { title = 'T', color = 65280 } } })", "POST /hook", "\"color\":65280"),
        ("notify.teams(URL, { title = 'Deploy', text = 'ok', theme_color = '00FF00' })", "POST /hook", "\"themeColor\":\"00FF00\""),
        ("notify.webhook(URL, { method = 'PUT', headers = { Authorization = 'Bearer t' }, data = { event = 'x' } })", "PUT /hook",
         "Authorization: Bearer t"),
        ("notify.telegram({ bot_token = 'bot1:AB', chat_id = '-100', text = 'hi', parse_mode = 'Markdown', api_url = BASE })",
         "POST /botbot1:AB/sendMessage", "\"parse_mode\":\"Markdown\""),
    ])
    func webhooks(call: String, requestLine: String, contains: String) async throws {
        let server = try LoopbackHTTPServer(body: "ok")
        let base = "http://127.0.0.1:\(server.port)"
        let lua = call.replacingOccurrences(of: "URL", with: "'\(base)/hook'").replacingOccurrences(of: "BASE", with: "'\(base)'")
        let output = try await RunHarness().output(of: "local ok, err = \(lua)\nreturn true, 'ok', { result = tostring(ok) .. ' ' .. tostring(err) }")
        #expect(output["result"].string == "true nil")
        let request = try #require(server.received())
        #expect(request.hasPrefix(requestLine + " HTTP/1.1"), "\(request)")
        #expect(request.contains(contains), "\(request)")
    }

    @Test("a webhook that answers an error gives nil and the status")
    func webhookError() async throws {
        let server = try LoopbackHTTPServer(status: "404 Not Found", body: "no_service")
        let output = try await RunHarness().output(of: """
            local ok, err = notify.slack("http://127.0.0.1:\(server.port)/x", "hi")
            return true, "ok", { result = tostring(ok) .. " " .. err }
            """)
        #expect(output["result"].string == "nil slack: HTTP 404: no_service")
    }

    @Test("notify.email speaks SMTP: envelope, AUTH, headers and body")
    func email() async throws {
        let server = try LoopbackSMTPServer()
        let output = try await RunHarness().output(of: """
            local ok, err = notify.email({ smtp_host = "127.0.0.1", smtp_port = "\(server.port)", username = "bot", password = "pw",
              from = "deploy@example.com", to = "team@example.com, ops@example.com", cc = "boss@example.com", bcc = "audit@example.com",
              subject = "Deploy done", body = "All good.\\n.hidden dot" })
            return true, "ok", { result = tostring(ok) .. " " .. tostring(err) }
            """)
        #expect(output["result"].string == "true nil")
        let session = try #require(server.received())
        #expect(session.commands.contains("MAIL FROM:<deploy@example.com>"))
        for rcpt in ["team", "ops", "boss", "audit"] { #expect(session.commands.contains("RCPT TO:<\(rcpt)@example.com>")) }
        #expect(session.commands.contains { $0.hasPrefix("AUTH PLAIN") })
        #expect(session.message.contains("Subject: Deploy done"))
        #expect(session.message.contains("Cc: boss@example.com"))
        #expect(!session.message.contains("audit@example.com"), "bcc stays out of the headers")
        #expect(session.message.contains("All good.\n..hidden dot"))
    }

    @Test("a header with a line break is refused before anything is sent")
    func emailHeaderInjection() async throws {
        let report = try await RunHarness().run("""
            task('t'):command(function() notify.email({ smtp_host = "127.0.0.1", to = "a@b.c", subject = "x\\r\\nBcc: evil@x" }) end):build()
            """)
        #expect(report.task("t")?.error?.contains("notify.email: subject must be one line") == true, "\(report.task("t")?.error ?? "")")
    }
}

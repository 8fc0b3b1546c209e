import Foundation
import Runner
import Testing

/// validate, template, reliability, help and monitor as the two Sloth Runner references call them.
@Suite("validate, template, reliability, help, monitor")
struct IntegrationModulesTests {
    @Test("each call answers the reference's shape", arguments: [
        ("validate.email splits a good address and refuses a bad one", """
            local good, bad = validate.email("Ana@Example.com"), validate.email("ana@@x")
            return true, "ok", { result = tostring(good.valid) .. " " .. good.domain .. " " .. tostring(bad.valid) }
            """, "true example.com false"),
        ("validate.url gives scheme, host, port, path and query", """
            local u = validate.url("https://example.com:8080/path?query=value")
            return true, "ok", { result = table.concat({ u.scheme, u.host, u.port, u.path, u.query }, " ") }
            """, "https example.com 8080 /path query=value"),
        ("validate.ip tells v4 from v6 and refuses 256", """
            local a, b, c = validate.ip("192.168.1.1"), validate.ip("2001:db8::1"), validate.ip("256.1.1.1")
            return true, "ok", { result = a.version .. " " .. b.version .. " " .. tostring(c.valid) }
            """, "v4 v6 false"),
        ("validate.regex is a regular expression with groups, not a Lua pattern", """
            local r = validate.regex("test123", "([a-z]+)(\\\\d+)")
            local bad = validate.regex("x", "(")
            return true, "ok", { result = r.matched .. " " .. r.groups[1] .. " " .. r.groups[2] .. " " .. tostring(bad.valid) }
            """, "test123 test 123 false"),
        ("length, range and required", """
            local parts = {
              tostring(validate.length("hello", { min = 3, max = 10 }).valid), tostring(validate.length("hello", { exact = 4 }).valid),
              tostring(validate.range(42, { min = 0, max = 100 }).valid), table.concat(validate.required({ name = "J" }, { "name", "age" }).missing, ","),
            }
            return true, "ok", { result = table.concat(parts, " ") }
            """, "true false true age"),
        ("validate.schema names each failing field", """
            local schema = { name = { required = "true", type = "string", min_length = 3 }, age = { required = "true", type = "number", min = 18 } }
            local r = validate.schema({ name = "Al", age = 12 }, schema)
            local fields = {}
            for _, e in ipairs(r.errors) do fields[#fields + 1] = e.field .. ":" .. e.message end
            return true, "ok", { result = tostring(r.valid) .. " " .. table.concat(fields, "; ") }
            """, "false age:must be at least 18; name:must be at least 3 characters"),
        ("validate.sanitize escapes html and trims", """
            return true, "ok", { result = validate.sanitize("<b>'x'</b>", "html") .. "|" .. validate.sanitize("  hi  ", "trim") }
            """, "&lt;b&gt;&#39;x&#39;&lt;/b&gt;|hi"),
        ("template.render and data.template render Mustache with values", """
            local a = template.render("Hello {{ name }}: {{#items}}{{.}} {{/items}}", { name = "User", items = { "a", "b" } })
            local b = data.template("v{{ version }}", { version = "1.0" })
            local bad, err = template.render("{{#open}}", {})
            return true, "ok", { result = a .. "|" .. b .. "|" .. tostring(bad) .. " " .. tostring(err ~= nil) }
            """, "Hello User: a b |v1.0|nil true"),
        ("template.render(source, destination, values) writes the file only when it changes", """
            local dir = fs.tmpdir()
            fs.write(dir .. "/t.conf.j2", "port={{ port }}")
            local first = template.render(dir .. "/t.conf.j2", dir .. "/t.conf", { port = 80 })
            local second = template.render(dir .. "/t.conf.j2", dir .. "/t.conf", { port = 80 })
            return true, "ok", { result = tostring(first.changed) .. " " .. tostring(second.changed) .. " " .. fs.read(dir .. "/t.conf") }
            """, "true false port=80"),
        ("reliability.retry tries again until the call succeeds", """
            local calls = 0
            local value = reliability.retry(function() calls = calls + 1; if calls < 3 then error("flaky") end; return "done" end,
              { max_attempts = 5, initial_delay = 0.001 })
            return true, "ok", { result = value .. " after " .. calls }
            """, "done after 3"),
        ("reliability.retry gives up with the last error; nil, err counts as a failure", """
            local value, err = reliability.retry(function() return nil, "down" end, { max_attempts = 2, initial_delay = 0.001 })
            return true, "ok", { result = tostring(value) .. " " .. err }
            """, "nil failed after 2 attempts: down"),
        ("a circuit opens after its threshold and then fails at once", """
            local calls = 0
            local function flaky() calls = calls + 1; error("no") end
            for _ = 1, 3 do reliability.circuit_breaker(flaky, { name = "api", failure_threshold = 2, timeout = 60 }) end
            local _, err = reliability.circuit_breaker(flaky, { name = "api", failure_threshold = 2 })
            return true, "ok", { result = calls .. " " .. reliability.circuit_state("api").state .. " " .. err:gsub("%d+s", "Ns") }
            """, "2 open circuit 'api' is open (next try in Ns)"),
        ("reliability.timeout stops a slow call and passes a quick one's results", """
            local slow, err = reliability.timeout(function() goroutine.sleep(5000); return "late" end, 0.05)
            local quick = reliability.timeout(function() return "quick" end, 5)
            return true, "ok", { result = tostring(slow) .. " " .. err .. " " .. quick }
            """, "nil timed out after 0.05s quick"),
        ("help lists modules and finds functions", """
            local found = {}
            for _, hit in ipairs(help.search("slack")) do found[#found + 1] = hit.name end
            local listed = false
            for _, name in ipairs(help.modules()) do listed = listed or name == "pkg" end
            return true, "ok", { result = table.concat(found, ",") .. " " .. tostring(listed) .. " " .. tostring(help():find("modules") ~= nil) }
            """, "notify.slack true true"),
        ("monitor counters, gauges, histograms and timers show in its Prometheus export", """
            monitor.counter_inc("itest_requests", { method = "GET" })
            monitor.counter_add("itest_requests", 2, { method = "GET" })
            monitor.gauge_set("itest_active", 5); monitor.gauge_dec("itest_active", 2)
            monitor.histogram_observe("itest_latency", 0.2)
            local timer = monitor.timer_start("itest_step")
            local ms = monitor.timer_end(timer)
            metrics.counter("itest_jobs", 1)
            local text = monitor.export_prometheus()
            local lines = {}
            for _, want in ipairs({ 'slothd_workflow_itest_requests{method="GET"} 3', "slothd_workflow_itest_active 3",
                                    'slothd_workflow_itest_latency_bucket{le="0.25"} 1', "slothd_workflow_itest_step_count 1",
                                    "slothd_workflow_itest_jobs 1" }) do
              lines[#lines + 1] = tostring(text:find(want, 1, true) ~= nil)
            end
            local metric = monitor.get_metric("itest_active")
            return true, "ok", { result = table.concat(lines, " ") .. " " .. metric.type .. " " .. metric.value .. " " .. tostring(ms >= 0) }
            """, "true true true true true gauge 3.0 true"),
        ("monitor.reset_metric forgets one metric; a counter cannot go down", """
            monitor.counter_inc("itest_reset")
            monitor.reset_metric("itest_reset")
            local gone = monitor.get_metric("itest_reset")
            local ok, err = pcall(monitor.counter_add, "itest_reset", -1)
            return true, "ok", { result = tostring(gone) .. " " .. tostring(ok) .. " " .. tostring(err:find("cannot go down") ~= nil) }
            """, "nil false true"),
    ])
    func answers(_ scenario: String, body: String, expected: String) async throws {
        let output = try await RunHarness().output(of: body)
        #expect(output["result"].string == expected, "\(scenario)")
    }

    @Test("bad metric names and label names are refused with the rule", arguments: [
        ("monitor.counter_inc('9lives')", "metric name '9lives' must match"),
        ("monitor.gauge_set('ok_name', 1, { ['bad-label'] = 'x' })", "label name 'bad-label' must match"),
        ("monitor.counter_inc('itest_kind'); monitor.gauge_set('itest_kind', 1)", "metric 'itest_kind' is a counter, not a gauge"),
    ])
    func badMetrics(call: String, message: String) async throws {
        let report = try await RunHarness().run("task('t'):command(function() \(call) end):build()\n")
        #expect(report.task("t")?.status == .failed)
        #expect(report.task("t")?.error?.contains(message) == true, "\(report.task("t")?.error ?? "")")
    }
}

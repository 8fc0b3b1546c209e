import Catalog
import Foundation
import Runner
import Testing
import TestSupport

@Suite("Execution: the DAG, failures, retries, timeouts and concurrency")
struct ExecutionTests {
    @Test("dependents of a failed task are skipped; independent tasks still run")
    func skipDependentsOfFailure() async throws {
        let report = try await RunHarness().run("""
            task('a'):command(function() return false, 'no' end)
            task('b'):depends_on('a'):command(function() return true end)
            task('c'):command(function() return true end)
            """)
        #expect(!report.succeeded)
        #expect(report.tasks.map(\.status.rawValue) == ["failed", "skipped", "success"])
        #expect(report.task("b")?.error == "dependency 'a' did not succeed")
    }

    @Test("fail_fast cancels what has not finished")
    func failFast() async throws {
        let report = try await RunHarness().run("""
            local a = task('a'):command(function() return false, 'no' end):build()
            local b = task('b'):command(function() goroutine.sleep(5000) return true end):build()
            local c = task('c'):depends_on('b'):build()
            workflow.define('w', {tasks = {a, b, c}, config = {fail_fast = true, max_parallel_tasks = 2}})
            """)
        #expect(report.tasks.map(\.status.rawValue) == ["failed", "cancelled", "cancelled"])
        #expect(report.error == "cancelled: fail_fast after task 'a' failed")
    }

    @Test("abort_if stops the workflow; run_if false skips the task", arguments: [
        ("abort_if(function() return true end)", "failed"),
        ("run_if(function() return false end)", "skipped"),
        ("run_if('test 1 -eq 2')", "skipped"),
        ("run_if('true')", "success"),
    ])
    func conditions(method: String, status: String) async throws {
        let report = try await RunHarness().run("task('t'):\(method):command(function() return true end)\ntask('after'):depends_on('t')")
        #expect(report.task("t")?.status.rawValue == status)
    }

    @Test("retries wait and try again until the command succeeds")
    func retries() async throws {
        let harness = try RunHarness()
        let report = try await harness.run("""
            task('flaky'):retries(2, 'fixed'):command(function()
              if state.increment('tries') < 3 then error('not yet') end
              return true
            end)
            """)
        #expect(report.task("flaky")?.status == .success)
        #expect(report.task("flaky")?.attempts == 3)
    }

    @Test("a timeout kills the command's whole process group and marks the task timed_out")
    func timeoutKillsProcessGroup() async throws {
        let report = try await RunHarness().run("task('hang'):timeout('1s'):command(function() exec.run('sleep 373 & sleep 373; wait') end)")
        #expect(report.task("hang")?.status == .timedOut)
        #expect(processes(containing: "sleep 373").isEmpty)
    }

    @Test("a timeout stops Lua code that never yields")
    func timeoutStopsBusyLoop() async throws {
        let report = try await RunHarness().run("task('spin'):timeout('500ms'):command(function() while true do end end)")
        #expect(report.task("spin")?.status == .timedOut)
    }

    @Test("a task without a timeout, run after one with a timeout, is not held to the other's deadline")
    func deadlineBelongsToItsTask() async throws {
        let report = try await RunHarness().run("""
            task('quick'):timeout('300ms'):command(function() goroutine.await(goroutine.async(function() end)) end)
            task('busy'):depends_on('quick'):command(function()
              local started = os.clock()
              while os.clock() - started < 0.6 do end
            end)
            """)
        #expect(report.task("quick")?.status == .success)
        #expect(report.task("busy")?.status == .success, "\(report.task("busy")?.error ?? "")")
    }

    @Test("the workflow timeout ends every running task")
    func workflowTimeout() async throws {
        let report = try await RunHarness().run("""
            workflow.define('w', {tasks = {task('slow'):command(function() exec.run('sleep 374') end):build()}, config = {timeout = '1s'}})
            """)
        #expect(report.task("slow")?.status == .timedOut)
        #expect(report.error == "workflow timed out after 1s")
        #expect(processes(containing: "sleep 374").isEmpty)
    }

    @Test("independent tasks run concurrently up to max_parallel_tasks", arguments: [(4, 3), (2, 2), (1, 1)])
    func parallelTasks(tasks: Int, limit: Int) async throws {
        let harness = try RunHarness()
        let report = try await harness.run("""
            local list = {}
            for i = 1, \(tasks) do list[i] = task('t' .. i):command(function()
              local now = state.increment('active')
              if now > state.get('peak', 0) then state.set('peak', now) end
              exec.run('sleep 0.5')
              state.decrement('active')
            end):build() end
            workflow.define('w', {tasks = list, config = {max_parallel_tasks = \(limit)}})
            """)
        #expect(report.succeeded)
        #expect(try harness.state.get("peak") == String(limit), "no more than, and as many as, max_parallel_tasks at once")
    }

    @Test("five 1-second goroutine sleeps overlap")
    func goroutinesOverlap() async throws {
        let report = try await RunHarness().run("""
            task('t'):command(function()
              local handles = {}
              for i = 1, 5 do handles[i] = goroutine.async(function() goroutine.sleep(1000) return i end) end
              local results = goroutine.await_all(handles)
              return true, 'ok', {n = #results, last = results[5].values[1]}
            end)
            """)
        #expect(report.task("t")?.output == LuaTable.record(["n": .integer(5), "last": .integer(5)]))
        #expect(report.durationMillis < 1900, "five overlapping 1 s sleeps took \(report.durationMillis) ms")
    }

    @Test("goroutine.timeout reports a timeout; pools run every job")
    func goroutineHelpers() async throws {
        let output = try await RunHarness().output(of: """
            local ok, why = goroutine.timeout(100, function() goroutine.sleep(5000) end)
            goroutine.pool_create('p', {workers = 2})
            for i = 1, 5 do goroutine.pool_submit('p', function(n) if n == 3 then error('bad') end return n end, i) end
            goroutine.pool_wait('p')
            local stats = goroutine.pool_stats('p')
            local results = goroutine.parallel({tasks = {function() return 1 end, function() return 2 end}, max_concurrent = 1})
            return true, 'ok', {ok = ok, why = why, completed = stats.completed, failed = stats.failed, second = results[2].value}
            """)
        #expect(output == LuaTable.record(["ok": .boolean(false), "why": .string("timeout"), "completed": .integer(4),
                                           "failed": .integer(1), "second": .integer(2)]))
    }

    @Test("--task runs the named task and its dependencies only")
    func taskSelection() async throws {
        let report = try await RunHarness().run("task('a')\ntask('b'):depends_on('a')\ntask('c')", tasks: ["b"])
        #expect(report.tasks.map(\.name) == ["a", "b"])
    }
}

@Suite("Cancelling a run")
struct CancellationTests {
    @Test("cancel stops waiting tasks and busy Lua code, kills their processes and records the run as cancelled")
    func cancelStopsEverything() async throws {
        let harness = try RunHarness()
        let cancellation = RunCancellation()
        async let report = harness.run("""
            workflow.define('w', {config = {max_parallel_tasks = 2}, tasks = {
              task('sleeper'):command(function() state.increment('started') exec.run('sleep 375') end):build(),
              task('spinner'):command(function() state.increment('started') while true do end end):build(),
            }})
            """, cancellation: cancellation)
        while try harness.state.get("started") != "2" { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(100))
        cancellation.cancel()
        let result = try await report
        #expect(result.stopped == .user)
        #expect(!result.succeeded)
        #expect(processes(containing: "sleep 375").isEmpty)
        #expect(try RunStore(database: harness.database).run(result.runID)?.state == .cancelled)
    }

    @Test("a cancelled run records each task in its real state: done, cancelled while running, skipped before starting")
    func cancelledTasksKeepTheirStates() async throws {
        let harness = try RunHarness()
        let cancellation = RunCancellation()
        let started = try StartSignal(in: harness.directory)
        async let report = harness.run("""
            task('first'):command(function() return true end):build()
            task('long'):depends_on('first'):command(function() exec.run("echo go > \(started.path)") exec.run('sleep 376') end):build()
            task('later'):depends_on('long'):command(function() return true end):build()
            """, cancellation: cancellation)
        await started.wait()
        cancellation.cancel()
        let result = try await report
        #expect(result.tasks.map(\.name) == ["first", "long", "later"])
        #expect(result.tasks.map(\.status.rawValue) == ["success", "cancelled", "skipped"])
        #expect(result.task("long")?.error == "run cancelled")
        let stored = try RunStore(database: harness.database).tasks(run: result.runID)
        #expect(stored.map(\.status.rawValue) == ["success", "cancelled", "skipped"])
        #expect(stored[1].startedAt != nil && stored[1].endedAt != nil)
    }
}

/// SPEC section 8 until agents exist: a delegated task fails as agent_unavailable and never runs here.
@Suite("Delegation without agents")
struct DelegationTests {
    @Test("a delegated task fails as agent_unavailable and runs nothing here", arguments: [
        ("task", "task('t'):delegate_to('web-01'):command(function() fs.write(MARKER, 'ran') end)\ntask('after'):depends_on('t')", [String](),
         "agent_unavailable: no eligible agent for agent \"web-01\" (only a slothd started with --agents-listen has agents)"),
        ("task, a list", "task('t'):delegate_to({'a', 'b'}):command('touch ' .. MARKER)\ntask('after'):depends_on('t')", [],
         "agent_unavailable: no eligible agent for agents \"a\", \"b\" (only a slothd started with --agents-listen has agents)"),
        ("task, by tags", "task('t'):delegate_to({tags = {role = 'web', env = 'prod'}}):command('touch ' .. MARKER)\ntask('after'):depends_on('t')", [],
         "agent_unavailable: no eligible agent for agents tagged env=prod,role=web (only a slothd started with --agents-listen has agents)"),
        ("workflow", "workflow('w'):task('t', function() fs.write(MARKER, 'ran') end):task('after', 'true'):delegate_to('web-01')", [],
         "agent_unavailable: no eligible agent for agent \"web-01\" (only a slothd started with --agents-listen has agents)"),
        ("--delegate-to", "task('t'):command('touch ' .. MARKER)\ntask('after'):command('touch ' .. MARKER)", ["db-01"],
         "agent_unavailable: no eligible agent for agent \"db-01\" (only a slothd started with --agents-listen has agents)"),
    ])
    func delegated(scenario: String, source: String, delegateTo: [String], error: String) async throws {
        let harness = try RunHarness()
        let marker = harness.directory.appendingPathComponent("ran").path
        var request = RunRequest(file: "d.sloth", source: "MARKER = '\(marker)'\n" + source)
        request.delegateTo = delegateTo
        let report = try await WorkflowRunner(database: harness.database, echo: nil, environment: [:]).run(request)
        #expect(report.task("t")?.status == .failed, "\(scenario)")
        #expect(report.task("t")?.error == error, "\(scenario)")
        // A dependent is skipped; one delegated itself (the workflow's delegate_to, --delegate-to) fails the same way.
        #expect([.skipped, .failed].contains(report.task("after")?.status), "\(scenario)")
        #expect(!report.succeeded)
        #expect(!FileManager.default.fileExists(atPath: marker), "\(scenario): nothing ran on this host")
    }
}

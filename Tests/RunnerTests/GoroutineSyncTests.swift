import Foundation
import Runner
import Testing

/// goroutine's Go-style primitives (SPEC section 5), cooperative on the run's fibers.
@Suite("Goroutines, Go style")
struct GoroutineSyncTests {
    @Test("each primitive gives Go's result", arguments: [
        ("fan-out: 10 goroutines send on one channel, a wait group, a mutex-guarded counter", """
            local ch, wg, mu, count = goroutine.channel(), goroutine.wait_group(), goroutine.mutex(), 0
            for i = 1, 10 do
              wg:add(1)
              goroutine.async(function() ch:send(i); mu:lock(); count = count + 1; goroutine.sleep(1); mu:unlock(); wg:done() end)
            end
            local sum = 0
            for _ = 1, 10 do sum = sum + ch:receive() end
            wg:wait()
            return true, "ok", { result = sum .. "/" .. count }
            """, "55/10"),
        ("a select loop on a channel that never fires keeps its queue small", """
            local quiet, busy, sum = goroutine.channel(), goroutine.channel(), 0
            goroutine.async(function() for i = 1, 10000 do busy:send(i) end end)
            for _ = 1, 10000 do sum = sum + select(2, goroutine.select({ {quiet, "receive"}, {busy, "receive"} })) end
            return true, "ok", { result = sum .. " " .. tostring(quiet.receivers:size() <= 64) }
            """, "50005000 true"),
        ("a buffered channel keeps order; closed and drained it says so; iteration stops at close", """
            local ch = goroutine.channel(3)
            ch:send("a"); ch:send("b"); ch:close()
            local sent, err = ch:send("c")
            local seen = {}
            for v in ch:iter() do seen[#seen + 1] = v end
            local v, ok = ch:receive()
            return true, "ok", { result = table.concat(seen, ",") .. " " .. tostring(sent) .. " " .. err .. " " .. tostring(v) .. " " .. tostring(ok) }
            """, "a,b false send on closed channel nil false"),
        ("try_send on a full channel and try_receive on an empty one do not block", """
            local ch = goroutine.channel(1)
            local a, b = ch:try_send(1), ch:try_send(2)
            local x, ok1 = ch:try_receive()
            local y, ok2 = ch:try_receive()
            return true, "ok", { result = string.format("%s %s %s %s %s %s", a, b, x, ok1, y, ok2) }
            """, "true false 1 true nil false"),
        ("select takes the ready case, the default when none is, and waits for one otherwise", """
            local a, b = goroutine.channel(1), goroutine.channel()
            a:send("x")
            local first = select(2, goroutine.select({ {b, "receive", function(v) return "b" end}, {a, "receive", function(v) return "a:" .. v end} }))
            local second = select(2, goroutine.select({ {b, "receive", function() return "b" end}, default = function() return "default" end }))
            goroutine.async(function() coroutine.yield(); b:send("late") end)
            local third = select(2, goroutine.select({ { channel = b, receive = true, handler = function(v) return "got " .. v end } }))
            return true, "ok", { result = first .. " " .. second .. " " .. third }
            """, "a:x default got late"),
        ("a semaphore of 2 lets at most two in at once", """
            local sem, inside, most, wg = goroutine.semaphore(2), 0, 0, goroutine.wait_group()
            for _ = 1, 6 do
              wg:add()
              goroutine.async(function() sem:acquire(); inside = inside + 1; most = math.max(most, inside); goroutine.sleep(2); inside = inside - 1; sem:release(); wg:done() end)
            end
            wg:wait()
            return true, "ok", { result = most .. " " .. sem:available() }
            """, "2 2"),
        ("once runs its function once; callers meanwhile wait for it", """
            local once, calls, ready, wg = goroutine.once(), 0, nil, goroutine.wait_group()
            local seen = {}
            for i = 1, 3 do
              wg:add()
              goroutine.async(function() once:call(function() calls = calls + 1; coroutine.yield(); ready = "ready" end); seen[i] = ready; wg:done() end)
            end
            wg:wait()
            return true, "ok", { result = calls .. " " .. table.concat(seen, ",") }
            """, "1 ready,ready,ready"),
        ("atomic_int and compare_and_swap", """
            local n = goroutine.atomic_int(5)
            local added = n:add(3)
            local swapped, refused = n:compare_and_swap(8, 1), n:compare_and_swap(8, 2)
            return true, "ok", { result = string.format("%d %s %s %d %d", added, swapped, refused, n:get(), n:swap(7)) }
            """, "8 true false 1 1"),
        ("cond: broadcast wakes every waiter, each re-checks under the lock", """
            local cond = goroutine.cond()
            local mu, go_ahead, woke, wg = cond:get_mutex(), false, 0, goroutine.wait_group()
            for _ = 1, 3 do
              wg:add()
              goroutine.async(function() mu:lock(); while not go_ahead do cond:wait() end; woke = woke + 1; mu:unlock(); wg:done() end)
            end
            goroutine.sleep(2)
            mu:lock(); go_ahead = true; cond:broadcast(); mu:unlock()
            wg:wait()
            return true, "ok", { result = woke }
            """, "3"),
        ("rwmutex: readers share, a writer waits for them", """
            local rw, log, wg = goroutine.rwmutex(), {}, goroutine.wait_group()
            for i = 1, 2 do
              wg:add()
              goroutine.async(function() rw:rlock(); log[#log + 1] = "r" .. i; goroutine.sleep(3); rw:runlock(); wg:done() end)
            end
            goroutine.sleep(1)
            rw:lock(); log[#log + 1] = "w"; rw:unlock()
            wg:wait()
            return true, "ok", { result = table.concat(log, ",") }
            """, "r1,r2,w"),
        ("contexts: cancel reaches children; a timeout ends a select on done()", """
            local root = goroutine.context()
            local child, cancel = root:with_cancel()
            root:cancel()
            local timed = root:with_timeout(0)
            local t2 = goroutine.context():with_timeout(5)
            local which = select(2, goroutine.select({ {t2:done(), "receive", function() return "done" end} }))
            return true, "ok", { result = tostring(child:err()) .. "|" .. tostring(timed:err()) .. "|" .. which .. "|" .. t2:err() }
            """, "context canceled|context canceled|done|context deadline exceeded"),
        ("map runs every item, at most max at once, and returns the results in order", """
            local inside, most = 0, 0
            local squares = goroutine.map({1, 2, 3, 4}, function(n) inside = inside + 1; most = math.max(most, inside); goroutine.sleep(2); inside = inside - 1; return n * n end, 2)
            return true, "ok", { result = table.concat(squares, ",") .. " " .. most }
            """, "1,4,9,16 2"),
        ("a goroutine outlives the goroutine that started it", """
            local ch = goroutine.channel(1)
            local starter = goroutine.async(function() goroutine.async(function() goroutine.sleep(3); ch:send("worker done") end) end)
            goroutine.await(starter)
            return true, "ok", { result = ch:receive() }
            """, "worker done"),
    ])
    func primitives(_ scenario: String, body: String, expected: String) async throws {
        let output = try await RunHarness().output(of: body)
        #expect(output["result"].string ?? output["result"].int.map(String.init) == expected, "\(scenario): \(output)")
    }

    @Test("a task whose goroutines all block fails at once with \"all goroutines are blocked\", even with a timeout", arguments: [
        "goroutine.channel():receive()",
        "local mu = goroutine.mutex(); mu:lock(); mu:lock()",
        "local ch = goroutine.channel(); goroutine.async(function() ch:receive() end); local wg = goroutine.wait_group(); wg:add(1); wg:wait()",
    ])
    func deadlockFailsTheTask(body: String) async throws {
        let started = ContinuousClock.now
        let report = try await RunHarness().run("""
            task('stuck'):timeout('60s'):command(function() \(body) end):build()
            task('other'):command(function() return true end):build()
            """)
        #expect(report.task("stuck")?.status == .failed)
        #expect(report.task("stuck")?.error == "all goroutines are blocked")
        #expect(report.task("other")?.status == .success)
        #expect(ContinuousClock.now - started < .seconds(30), "it did not wait for the task's timeout")
    }

    @Test("what could still wake a goroutine is not a deadlock, and what a killed waiter was handed goes back", arguments: [
        ("a task waits on a channel another task sends to after a sleep", """
            local ch = goroutine.channel()
            local recv = task('recv'):command(function() return true, 'ok', { v = ch:receive() } end):build()
            local send = task('send'):command(function() goroutine.sleep(30); ch:send(42) end):build()
            workflow.define('w', { tasks = { recv, send }, config = { max_parallel_tasks = 2 } })
            """),
        ("a pool job started when an earlier one ends", """
            task('t'):command(function()
              goroutine.pool_create('p', { workers = 1 })
              for _ = 1, 2 do goroutine.pool_submit('p', function() goroutine.sleep(10) end) end
              return #goroutine.pool_wait('p') == 2
            end):build()
            """),
        ("a lock handed to a goroutine killed before it ran is free again", """
            local m = goroutine.mutex()
            local a = task('a'):command(function()
              m:lock()
              goroutine.async(function() m:lock(); m:unlock() end)
              coroutine.yield()
              m:unlock()
            end):build()
            local b = task('b'):depends_on('a'):command(function() m:lock(); m:unlock() end):build()
            workflow.define('w', { tasks = { a, b } })
            """),
        ("a value sent to a receiver killed before it ran is received by the next", """
            local ch = goroutine.channel()
            local a = task('a'):command(function()
              goroutine.async(function() ch:receive() end)
              coroutine.yield()
              ch:send(7)
            end):build()
            local b = task('b'):depends_on('a'):command(function() return ch:receive() == 7 end):build()
            workflow.define('w', { tasks = { a, b } })
            """),
        ("a once whose goroutine was killed inside its function runs it for the next caller", """
            local once = goroutine.once()
            local a = task('a'):command(function()
              goroutine.async(function() once:call(function() goroutine.sleep(60000) end) end)
              coroutine.yield()
            end):build()
            local b = task('b'):depends_on('a'):command(function()
              local ran = false
              once:call(function() ran = true end)
              once:call(function() ran = false end)
              return ran
            end):build()
            workflow.define('w', { tasks = { a, b } })
            """),
        ("a later task's select on a context's done() wakes at its deadline, though the first asker ended", """
            local c = goroutine.context():with_timeout(50)
            local a = task('a'):command(function() c:done() end):build()
            local b = task('b'):depends_on('a'):command(function()
              goroutine.select({ {c:done(), "receive"} })
              return c:err() == "context deadline exceeded"
            end):build()
            workflow.define('w', { tasks = { a, b } })
            """),
        ("a reader queued behind a writer that gave up is let in", """
            task('t'):command(function()
              local rw = goroutine.rwmutex()
              rw:rlock()
              goroutine.async(function() goroutine.timeout(10, function() rw:lock() end) end)
              local reader = goroutine.async(function() goroutine.sleep(3); rw:rlock(); rw:runlock(); return 'got' end)
              goroutine.sleep(30)
              rw:runlock()
              local ok, got = goroutine.await(reader)
              return got == 'got'
            end):build()
            """),
    ])
    func notDeadlocked(_ scenario: String, source: String) async throws {
        let report = try await RunHarness().run(source)
        #expect(report.succeeded, "\(scenario): \(report.tasks.map { "\($0.name) \($0.status) \($0.error ?? "")" })")
    }
}

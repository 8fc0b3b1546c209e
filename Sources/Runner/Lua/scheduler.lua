-- The run's scheduler: every task attempt and goroutine is a fiber (a coroutine). Blocking built-ins
-- start an operation in Swift and yield; the loop below resumes fibers as operations complete, timers
-- fire and deadlines pass. Only this file yields to the loop.
local S = ...
local sched = {}

local fibers = {}      -- coroutine -> fiber
local runnable = {}    -- fibers to resume, each with its `args` (false for a wake-up without values)
local spare = {}       -- the other list of runnable, empty between turns
local op_waiters = {}  -- op id -> fiber, or MAIN
local sleepers = {}    -- fiber -> wake time (ms)
local main_results = {} -- op id -> result, for waits outside any fiber
local MAIN = {}
local WAIT_OP, WAIT_SLEEP, WAIT_SIGNAL, WAIT_PARK = {}, {}, {}, {}
local BLOCKED = "all goroutines are blocked"
local co_resume, co_yield, co_running, co_status = coroutine.resume, coroutine.yield, coroutine.running, coroutine.status
local unpack = table.unpack
-- The deadline the hook checks now; it is armed for whichever fiber runs and moves only when that
-- fiber's deadline differs (the hook never times out the loop itself, on the main thread).
local armed = nil

local function arm(deadline)
  armed = deadline
  S.set_deadline(deadline or 0)
end

function sched.current()
  return fibers[co_running()]
end

-- Starts fn(...) as a fiber. deadline: monotonic ms or nil; inherits the parent's earlier deadline.
-- opts.group_root: the fiber heads a group (a task attempt) that its descendants join; a group whose
-- fibers are all blocked on each other fails. opts.parent: whom it belongs to (default: the caller).
function sched.spawn(fn, opts, ...)
  opts = opts or {}
  local parent = opts.parent or sched.current()
  local deadline = opts.deadline
  if parent and parent.deadline and (not deadline or parent.deadline < deadline) then deadline = parent.deadline end
  -- Every field a fiber ever has is named here, so that setting one later never grows the table.
  local fiber = {
    deadline = deadline, task = opts.task or (parent and parent.task), parent = parent,
    children = {}, joiners = {}, name = opts.name, co = coroutine.create(fn), args = table.pack(...),
    group = false, done = false, ok = false, values = false, reason = false, parked = false, handed = false,
    waiting_op = false, waiting_signal = false, on_done = false,
    -- the fiber is the waiter of its own plain waits (sched.waiter)
    fiber = false, waiter = false, fired = false, first = false, second = false, taken = false, data = false,
    on_abandon = false, owner = false,
  }
  fiber.fiber, fiber.waiter = fiber, fiber
  fiber.group = opts.group_root and fiber or (parent and parent.group)
  fibers[fiber.co] = fiber
  if parent then parent.children[fiber] = true end
  runnable[#runnable + 1] = fiber
  return fiber
end

local function finish(fiber, ok, values, reason)
  if fiber.done then return end
  fiber.done, fiber.ok, fiber.values, fiber.reason = true, ok, values, reason
  fibers[fiber.co] = nil
  sleepers[fiber] = nil
  if fiber.parent then fiber.parent.children[fiber] = nil end
  for joiner in pairs(fiber.joiners) do
    if joiner.waiting_signal then
      joiner.waiting_signal = false
      runnable[#runnable + 1] = joiner
    end
  end
  fiber.joiners = {}
  if fiber.on_done then fiber.on_done(fiber) end
end

-- Stops a fiber and everything it started: pending operations are cancelled (their processes killed).
-- With a reason it was stopped (cancelled, timed out); without one it failed with `message`.
local function stop(fiber, reason, message)
  if fiber.done then return end
  for child in pairs(fiber.children) do stop(child, reason or message) end
  if fiber.waiting_op then
    op_waiters[fiber.waiting_op] = nil
    S.cancel(fiber.waiting_op)
    fiber.waiting_op = false
  end
  if co_status(fiber.co) == "suspended" then coroutine.close(fiber.co) end
  -- Handed a lock, a token or a channel's value it will now never use: it goes back.
  local handed = fiber.handed
  if handed and handed.on_abandon then
    fiber.handed = false
    handed.on_abandon(handed.owner, handed.first, handed.second)
  end
  finish(fiber, false, table.pack(reason or message), reason)
end
function sched.kill(fiber, reason) stop(fiber, reason) end
function sched.fail(fiber, message) stop(fiber, nil, message) end

-- Goroutine code goes to the task attempt it runs in, so a goroutine outlives the one that started it.
function sched.group_root()
  local me = sched.current()
  return me and (me.group or me)
end

-- What a resumed fiber did: ended (its values), or yielded one of the wait requests. A park, the
-- commonest, is told first: only a fiber that yielded can have returned the private WAIT_PARK.
local function resumed(fiber, ok, request, ...)
  if request == WAIT_PARK and ok then return end
  if co_status(fiber.co) == "dead" then
    local values = table.pack(request, ...)
    local reason
    if not ok and fiber.deadline and S.now() >= fiber.deadline then reason = "timed out" end
    for child in pairs(fiber.children) do sched.kill(child, "parent finished") end
    finish(fiber, ok, values, reason)
    return
  end
  local value = ...
  if request == WAIT_OP then
    fiber.waiting_op = value
    op_waiters[value] = fiber
  elseif request == WAIT_SLEEP then
    sleepers[fiber] = value
  elseif request == WAIT_SIGNAL then
    fiber.waiting_signal = true
  else
    -- A bare coroutine.yield() from workflow code: run it again on the next turn.
    runnable[#runnable + 1] = fiber
  end
end

local function resume(fiber)
  if fiber.done then return end
  if fiber.deadline ~= armed then arm(fiber.deadline) end
  local args = fiber.args
  if args then
    fiber.args = false
    return resumed(fiber, co_resume(fiber.co, unpack(args, 1, args.n)))
  end
  return resumed(fiber, co_resume(fiber.co))
end

local function has_waiters()
  return next(op_waiters) ~= nil or next(sleepers) ~= nil
end

-- When nothing in the run can move (nothing runnable, no operation pending, no timer but the attempts'
-- deadlines), each group (a task attempt) whose fibers are all parked or joining fails: nothing could
-- wake them but their deadlines. Another task's sleeping or running fiber might, so then none fails.
local function fail_blocked_groups()
  if next(op_waiters) ~= nil or next(sleepers) ~= nil then return false end
  local live, stuck = {}, {}
  for _, fiber in pairs(fibers) do
    local group = fiber.group
    if group then
      live[group] = (live[group] or 0) + 1
      -- A fiber with a deadline of its own (goroutine.timeout) will be woken by it; the attempt's does not count.
      local own_deadline = fiber.deadline and fiber.deadline ~= group.deadline
      if not own_deadline and (fiber.parked or fiber.waiting_signal) then
        stuck[group] = (stuck[group] or 0) + 1
      end
    end
  end
  local failed = false
  for group, count in pairs(live) do
    if stuck[group] == count and not group.done then
      sched.fail(group, BLOCKED)
      failed = true
    end
  end
  return failed
end

-- One turn of the loop: resume what is runnable, else block until an operation, a timer or a deadline.
local function step()
  if #runnable > 0 then
    -- Two lists take turns, so a turn allocates no list.
    local batch = runnable
    runnable, spare = spare, batch
    for i = 1, #batch do
      local fiber = batch[i]
      batch[i] = nil
      resume(fiber)
    end
    return true
  end
  local now = S.now()
  local wake
  for fiber, at in pairs(sleepers) do
    if at <= now then
      sleepers[fiber] = nil
      if fiber ~= MAIN then runnable[#runnable + 1] = fiber end
    elseif not wake or at < wake then
      wake = at
    end
  end
  for _, fiber in pairs(fibers) do
    if fiber.deadline then
      if fiber.deadline <= now then
        sched.kill(fiber, "timed out")
      elseif not wake or fiber.deadline < wake then
        wake = fiber.deadline
      end
    end
  end
  if #runnable > 0 then return true end
  if fail_blocked_groups() then return true end
  if next(op_waiters) == nil and not wake then return false end
  local timeout = wake and math.max(0, wake - now) or -1
  for _, done in ipairs(S.wait(timeout)) do
    local waiter = op_waiters[done.id]
    op_waiters[done.id] = nil
    if waiter == MAIN then
      main_results[done.id] = done.result
    elseif waiter then
      waiter.waiting_op, waiter.args = false, table.pack(done.result)
      runnable[#runnable + 1] = waiter
    end
  end
  return true
end

-- Runs the loop until `predicate()` holds; an error if nothing is left that could make it hold.
-- The deadline is disarmed on the way out: code outside the fibers (a coroutine of the workflow's
-- top level) must not time out on the last fiber's deadline.
function sched.run_until(predicate)
  while not predicate() do
    if not step() and not predicate() then
      if armed then arm(nil) end
      error(BLOCKED .. " (every fiber waits on another, and no operation is pending)", 2)
    end
  end
  if armed then arm(nil) end
end

-- Waits for a host operation; yields inside a fiber, drives the loop outside one.
function sched.await_op(id)
  if sched.current() then return co_yield(WAIT_OP, id) end
  op_waiters[id] = MAIN
  sched.run_until(function() return main_results[id] ~= nil end)
  local result = main_results[id]
  main_results[id] = nil
  return result
end

function sched.sleep(ms)
  local wake = S.now() + math.max(0, ms)
  if sched.current() then return co_yield(WAIT_SLEEP, wake) end
  sleepers[MAIN] = wake
  sched.run_until(function() return S.now() >= wake end)
  sleepers[MAIN] = nil
end

-- Waits until `fiber` is done; returns ok, values, reason.
function sched.join(fiber)
  while not fiber.done do
    local me = sched.current()
    if me then
      fiber.joiners[me] = true
      coroutine.yield(WAIT_SIGNAL)
    else
      sched.run_until(function() return fiber.done end)
    end
  end
  return fiber.ok, fiber.values, fiber.reason
end

-- Waits until any of `list` is done.
function sched.join_any(list)
  local function any_done()
    for _, fiber in ipairs(list) do if fiber.done then return true end end
    return false
  end
  while not any_done() do
    local me = sched.current()
    if me then
      for _, fiber in ipairs(list) do fiber.joiners[me] = true end
      coroutine.yield(WAIT_SIGNAL)
      for _, fiber in ipairs(list) do fiber.joiners[me] = nil end
    else
      sched.run_until(any_done)
    end
  end
end

-- Waiters: one blocking call of a goroutine primitive (a channel receive, a lock), woken once with up
-- to two values. `on_abandon(owner, first, second)` gives back what a waker handed over (a lock, a
-- token, a value) if its fiber is killed before it runs again. A fiber is the waiter of its own plain
-- waits, so waiting allocates nothing: it waits on one queue, and leaves it only by being woken from
-- it or by ending. A select waits on several queues with a waiter of its own: the first wake wins.
local function new_waiter(fiber)
  local waiter = { fiber = fiber, fired = false, first = false, second = false, taken = false, data = false,
                   on_abandon = false, owner = false, waiter = false }
  waiter.waiter = waiter
  return waiter
end
function sched.select_waiter() return new_waiter(sched.current() or MAIN) end

-- The caller's waiter for one plain wait.
function sched.waiter(data, on_abandon, owner)
  local waiter = fibers[co_running()] or new_waiter(MAIN)
  waiter.fired, waiter.first, waiter.second, waiter.taken = false, false, false, false
  waiter.data, waiter.on_abandon, waiter.owner = data, on_abandon or false, owner or false
  return waiter
end

-- MAIN has no `done`: the loop outside the fibers is always live.
local function live(waiter) return not waiter.fired and not waiter.fiber.done end
sched.live = live

-- Blocks until `waiter` is woken -> the two values it was woken with.
local function park(waiter)
  if not waiter.fired then
    local me = fibers[co_running()]
    if me then
      me.parked = waiter
      co_yield(WAIT_PARK)
      me.handed = false
    else
      sched.run_until(function() return waiter.fired end)
    end
  end
  return waiter.first, waiter.second
end
sched.park = park

-- Wakes a waiter taken off its queue with two values: its fiber runs again on the loop's next turn.
function sched.wake(waiter, first, second)
  waiter.first, waiter.second = first, second
  local fiber = waiter.fiber
  if fiber.parked == waiter then
    fiber.parked, fiber.handed = false, waiter
    runnable[#runnable + 1] = fiber
  end
end

sched.has_waiters = has_waiters
return sched

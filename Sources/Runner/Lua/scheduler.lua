-- The run's scheduler: every task attempt and goroutine is a fiber (a coroutine). Blocking built-ins
-- start an operation in Swift and yield; the loop below resumes fibers as operations complete, timers
-- fire and deadlines pass. Only this file yields to the loop.
local S = ...
local sched = {}

local fibers = {}      -- coroutine -> fiber
local runnable = {}    -- {fiber, args}; args nil for a wake-up without values
local spare = {}       -- the other list of runnable, empty between turns
local op_waiters = {}  -- op id -> fiber, or MAIN
local sleepers = {}    -- fiber -> wake time (ms)
local main_results = {} -- op id -> result, for waits outside any fiber
local MAIN = {}
local WAIT_OP, WAIT_SLEEP, WAIT_SIGNAL, WAIT_PARK = {}, {}, {}, {}
local BLOCKED = "all goroutines are blocked"

function sched.current()
  return fibers[coroutine.running()]
end

-- Starts fn(...) as a fiber. deadline: monotonic ms or nil; inherits the parent's earlier deadline.
-- opts.group_root: the fiber heads a group (a task attempt) that its descendants join; a group whose
-- fibers are all blocked on each other fails. opts.parent: whom it belongs to (default: the caller).
function sched.spawn(fn, opts, ...)
  opts = opts or {}
  local parent = opts.parent or sched.current()
  local deadline = opts.deadline
  if parent and parent.deadline and (not deadline or parent.deadline < deadline) then deadline = parent.deadline end
  local fiber = {
    deadline = deadline, task = opts.task or (parent and parent.task), parent = parent,
    children = {}, joiners = {}, name = opts.name,
  }
  fiber.group = opts.group_root and fiber or (parent and parent.group)
  fiber.co = coroutine.create(fn)
  fibers[fiber.co] = fiber
  if parent then parent.children[fiber] = true end
  runnable[#runnable + 1] = { fiber = fiber, args = table.pack(...) }
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
      runnable[#runnable + 1] = { fiber = joiner }
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
    fiber.waiting_op = nil
  end
  if coroutine.status(fiber.co) == "suspended" then coroutine.close(fiber.co) end
  -- Handed a lock, a token or a channel's value it will now never use: it goes back.
  local handed = fiber.handed
  if handed and handed.on_abandon then fiber.handed = nil; handed.on_abandon(handed.first, handed.second) end
  finish(fiber, false, table.pack(reason or message), reason)
end
function sched.kill(fiber, reason) stop(fiber, reason) end
function sched.fail(fiber, message) stop(fiber, nil, message) end

-- Goroutine code goes to the task attempt it runs in, so a goroutine outlives the one that started it.
function sched.group_root()
  local me = sched.current()
  return me and (me.group or me)
end

-- What a resumed fiber did: ended (its values), or yielded one of the wait requests.
local function resumed(fiber, ok, ...)
  if fiber.deadline then S.set_deadline(0) end
  if coroutine.status(fiber.co) == "dead" then
    local values = table.pack(...)
    local reason
    if not ok and fiber.deadline and S.now() >= fiber.deadline then reason = "timed out" end
    for child in pairs(fiber.children) do sched.kill(child, "parent finished") end
    finish(fiber, ok, values, reason)
    return
  end
  local request, value = ...
  if request == WAIT_PARK then
    -- parked on a waiter (fiber.parked): sched.fire or its timer puts it back
  elseif request == WAIT_OP then
    fiber.waiting_op = value
    op_waiters[value] = fiber
  elseif request == WAIT_SLEEP then
    sleepers[fiber] = value
  elseif request == WAIT_SIGNAL then
    fiber.waiting_signal = true
  else
    -- A bare coroutine.yield() from workflow code: run it again on the next turn.
    runnable[#runnable + 1] = { fiber = fiber }
  end
end

-- The deadline hook is armed only around a fiber that has a deadline (a host call each way).
local function resume(fiber, args)
  if fiber.done then return end
  if fiber.deadline then S.set_deadline(fiber.deadline) end
  if args then
    resumed(fiber, coroutine.resume(fiber.co, table.unpack(args, 1, args.n)))
  else
    resumed(fiber, coroutine.resume(fiber.co))
  end
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
      if not own_deadline and ((fiber.parked and sleepers[fiber] == nil) or fiber.waiting_signal) then
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
      local item = batch[i]
      batch[i] = nil
      resume(item.fiber, item.args)
    end
    return true
  end
  local now = S.now()
  local wake
  for fiber, at in pairs(sleepers) do
    if at <= now then
      sleepers[fiber] = nil
      local parked = fiber ~= MAIN and fiber.parked
      if parked then
        fiber.parked = nil
        if not parked.fired then parked.fired, parked.timed_out = true, true end
      end
      if fiber ~= MAIN then runnable[#runnable + 1] = { fiber = fiber } end
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
      waiter.waiting_op = nil
      runnable[#runnable + 1] = { fiber = waiter, args = table.pack(done.result) }
    end
  end
  return true
end

-- Runs the loop until `predicate()` holds; an error if nothing is left that could make it hold.
function sched.run_until(predicate)
  while not predicate() do
    if not step() and not predicate() then
      error(BLOCKED .. " (every fiber waits on another, and no operation is pending)", 2)
    end
  end
end

-- Waits for a host operation; yields inside a fiber, drives the loop outside one.
function sched.await_op(id)
  if sched.current() then return coroutine.yield(WAIT_OP, id) end
  op_waiters[id] = MAIN
  sched.run_until(function() return main_results[id] ~= nil end)
  local result = main_results[id]
  main_results[id] = nil
  return result
end

function sched.sleep(ms)
  local wake = S.now() + math.max(0, ms)
  if sched.current() then return coroutine.yield(WAIT_SLEEP, wake) end
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

-- Waiters: one blocking call of a goroutine primitive (a channel receive, a lock). sched.fire wakes
-- it once with up to two values; a select pushes one waiter on several queues and the first fire wins.
function sched.waiter() return { fiber = sched.current() or MAIN, fired = false } end

function sched.live(waiter) return not waiter.fired and (waiter.fiber == MAIN or not waiter.fiber.done) end

function sched.fire(waiter, ...)
  if not sched.live(waiter) then return false end
  waiter.fired, waiter.first, waiter.second = true, ...
  local fiber = waiter.fiber
  if fiber ~= MAIN and fiber.parked == waiter then
    fiber.parked, fiber.handed = nil, waiter
    sleepers[fiber] = nil
    runnable[#runnable + 1] = { fiber = fiber }
  end
  return true
end

-- Blocks until `waiter` is fired -> true, values... or `timeout_ms` passes -> false.
function sched.park(waiter, timeout_ms)
  if not waiter.fired then
    local at = timeout_ms and (S.now() + math.max(0, timeout_ms))
    local me = sched.current()
    if me then
      me.parked = waiter
      if at then sleepers[me] = at end
      coroutine.yield(WAIT_PARK)
      me.handed = nil
    else
      if at then sleepers[MAIN] = at end
      sched.run_until(function() return waiter.fired or (at ~= nil and S.now() >= at) end)
      sleepers[MAIN] = nil
      if not waiter.fired then waiter.fired, waiter.timed_out = true, true end
    end
  end
  if waiter.timed_out then return false end
  return true, waiter.first, waiter.second
end

sched.has_waiters = has_waiters
return sched

-- The run's scheduler: every task attempt and goroutine is a fiber (a coroutine). Blocking built-ins
-- start an operation in Swift and yield; the loop below resumes fibers as operations complete, timers
-- fire and deadlines pass. Only this file yields to the loop.
local S = ...
local sched = {}

local fibers = {}      -- coroutine -> fiber
local runnable = {}    -- {fiber, args}
local op_waiters = {}  -- op id -> fiber, or MAIN
local sleepers = {}    -- fiber -> wake time (ms)
local main_results = {} -- op id -> result, for waits outside any fiber
local MAIN = {}
local WAIT_OP, WAIT_SLEEP, WAIT_SIGNAL = {}, {}, {}

function sched.current()
  return fibers[coroutine.running()]
end

-- Starts fn(...) as a fiber. deadline: monotonic ms or nil; inherits the parent's earlier deadline.
function sched.spawn(fn, opts, ...)
  opts = opts or {}
  local parent = sched.current()
  local deadline = opts.deadline
  if parent and parent.deadline and (not deadline or parent.deadline < deadline) then deadline = parent.deadline end
  local fiber = {
    deadline = deadline, task = opts.task or (parent and parent.task), parent = parent,
    children = {}, joiners = {}, name = opts.name,
  }
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
      runnable[#runnable + 1] = { fiber = joiner, args = table.pack() }
    end
  end
  fiber.joiners = {}
  if fiber.on_done then fiber.on_done(fiber) end
end

-- Stops a fiber and everything it started: pending operations are cancelled (their processes killed).
function sched.kill(fiber, reason)
  if fiber.done then return end
  for child in pairs(fiber.children) do sched.kill(child, reason) end
  if fiber.waiting_op then
    op_waiters[fiber.waiting_op] = nil
    S.cancel(fiber.waiting_op)
    fiber.waiting_op = nil
  end
  if coroutine.status(fiber.co) == "suspended" then coroutine.close(fiber.co) end
  finish(fiber, false, table.pack(reason), reason)
end

local function resume(fiber, args)
  if fiber.done then return end
  S.set_deadline(fiber.deadline or 0)
  local results = table.pack(coroutine.resume(fiber.co, table.unpack(args, 1, args.n)))
  S.set_deadline(0)
  if coroutine.status(fiber.co) == "dead" then
    local ok = results[1]
    local values = table.pack(table.unpack(results, 2, results.n))
    local reason
    if not ok and fiber.deadline and S.now() >= fiber.deadline then reason = "timed out" end
    for child in pairs(fiber.children) do sched.kill(child, "parent finished") end
    finish(fiber, ok, values, reason)
    return
  end
  local request = results[2]
  if request == WAIT_OP then
    fiber.waiting_op = results[3]
    op_waiters[results[3]] = fiber
  elseif request == WAIT_SLEEP then
    sleepers[fiber] = results[3]
  elseif request == WAIT_SIGNAL then
    fiber.waiting_signal = true
  else
    -- A bare coroutine.yield() from workflow code: run it again on the next turn.
    runnable[#runnable + 1] = { fiber = fiber, args = table.pack() }
  end
end

local function has_waiters()
  return next(op_waiters) ~= nil or next(sleepers) ~= nil
end

-- One turn of the loop: resume what is runnable, else block until an operation, a timer or a deadline.
local function step()
  if #runnable > 0 then
    local batch = runnable
    runnable = {}
    for _, item in ipairs(batch) do resume(item.fiber, item.args) end
    return true
  end
  local now = S.now()
  local wake
  for fiber, at in pairs(sleepers) do
    if at <= now then
      sleepers[fiber] = nil
      if fiber ~= MAIN then runnable[#runnable + 1] = { fiber = fiber, args = table.pack() } end
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
      error("deadlock: every fiber is waiting on another and no operation is pending", 2)
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

sched.has_waiters = has_waiters
return sched

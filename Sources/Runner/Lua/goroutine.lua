-- goroutine: Go-style fibers on the run's scheduler.
local S, util, sched, ctx, modules = ...
local M = {}

local go = M

local function handle_result(fiber)
  local result = { success = fiber.ok and true or false }
  if fiber.ok then
    result.values = { table.unpack(fiber.values, 1, fiber.values.n) }
    result.value = fiber.values[1]
  else
    result.error = fiber.reason or tostring(fiber.values[1])
    result.values = {}
  end
  return result
end

function go.async(fn, ...)
  if type(fn) ~= "function" then error("goroutine.async expects a function", 2) end
  return sched.spawn(fn, { name = "goroutine", parent = sched.group_root() }, ...)
end
go.create = go.async
go.spawn = go.async
function go.spawn_many(count, fn)
  local handles = {}
  for i = 1, count do handles[i] = go.async(fn, i) end
  return handles
end
function go.sleep(ms) sched.sleep(tonumber(ms) or 0) end

-- await(handle) -> success, value...
function go.await(handle)
  local ok, values, reason = sched.join(handle)
  if ok then return true, table.unpack(values, 1, values.n) end
  return false, reason or values[1]
end

function go.await_all(handles)
  local results = {}
  for i, handle in ipairs(handles) do
    sched.join(handle)
    results[i] = handle_result(handle)
  end
  return results
end

-- wait_all(handles[, timeout_seconds]): handles still running at the timeout are stopped.
function go.wait_all(handles, timeout)
  local deadline = timeout and (S.now() + util.duration_ms(timeout, "wait_all timeout"))
  local watchdog
  if deadline then
    watchdog = sched.spawn(function()
      sched.sleep(deadline - S.now())
      for _, handle in ipairs(handles) do sched.kill(handle, "timed out") end
    end, { name = "wait_all timeout" })
  end
  local results = go.await_all(handles)
  if watchdog then sched.kill(watchdog, "done") end
  return results
end

-- timeout(ms, fn) -> true, values... | false, "timeout"
function go.timeout(ms, fn, ...)
  local handle = sched.spawn(fn, { deadline = S.now() + (tonumber(ms) or 0), name = "goroutine.timeout" }, ...)
  local ok, values, reason = sched.join(handle)
  if ok then return true, table.unpack(values, 1, values.n) end
  if reason == "timed out" then return false, "timeout" end
  return false, reason or values[1]
end

-- parallel({fn, ...}) or parallel({tasks = {...}, max_concurrent = n}) -> results like await_all.
function go.parallel(spec)
  local functions = spec.tasks or spec
  local limit = tonumber(spec.max_concurrent) or #functions
  local results, running, next_index = {}, {}, 1
  while next_index <= #functions or next(running) do
    while next_index <= #functions and #running < limit do
      running[#running + 1] = { index = next_index, handle = go.async(functions[next_index]) }
      next_index = next_index + 1
    end
    local handles = {}
    for _, item in ipairs(running) do handles[#handles + 1] = item.handle end
    sched.join_any(handles)
    for i = #running, 1, -1 do
      if running[i].handle.done then
        results[running[i].index] = handle_result(running[i].handle)
        table.remove(running, i)
      end
    end
  end
  return results
end

-- map(list, fn[, max]): fn(item, index) for every item, at most `max` at once; waits for all and
-- returns their first results in order. An error in one is raised (with its index) once all ended.
function go.map(list, fn, max)
  if type(list) ~= "table" or type(fn) ~= "function" then error("goroutine.map expects a list and a function", 2) end
  local limit = math.tointeger(max) or #list
  local gate = limit < #list and go.semaphore(math.max(1, limit)) or nil
  local results, failures, handles = {}, {}, {}
  for index, item in ipairs(list) do
    if gate then gate:acquire() end
    handles[index] = go.async(function()
      local ok, result = pcall(fn, item, index)
      if gate then gate:release() end
      if ok then results[index] = result else failures[#failures + 1] = { index = index, error = result } end
    end)
  end
  for _, handle in ipairs(handles) do sched.join(handle) end
  table.sort(failures, function(a, b) return a.index < b.index end)
  if failures[1] then error("goroutine.map: item " .. failures[1].index .. ": " .. tostring(failures[1].error), 2) end
  return results
end

-- Contexts: context(), ctx:with_cancel() -> child, cancel; ctx:with_timeout(ms); ctx:with_deadline(epoch ms);
-- ctx:cancel(), err() (nil, "context canceled", "context deadline exceeded"), is_cancelled(), done()
-- (a channel closed when it ends, for select), deadline(). Cancelling a context cancels its children.
local Context = {}
Context.__index = Context
local function new_context(parent, deadline)
  local context = setmetatable({ children = {}, deadline_at = deadline }, Context)
  if parent then
    if parent.deadline_at and (not deadline or parent.deadline_at < deadline) then context.deadline_at = parent.deadline_at end
    if parent:err() then context.error = parent.error else parent.children[context] = true end
  end
  return context
end
function Context:cancel(reason)
  if self.error then return end
  self.error = reason or "context canceled"
  if self.done_channel then self.done_channel:close() end
  if self.timer then sched.kill(self.timer, "context ended") end
  for child in pairs(self.children) do child:cancel(self.error) end
end
function Context:err()
  if not self.error and self.deadline_at and S.now() >= self.deadline_at then self:cancel("context deadline exceeded") end
  return self.error
end
function Context:is_cancelled() return self:err() ~= nil end
-- The deadline's timer belongs to the task asking; one that ended with an earlier task is started again.
function Context:done()
  self.done_channel = self.done_channel or go.channel()
  if self:err() then
    if not self.done_channel:is_closed() then self.done_channel:close() end
  elseif self.deadline_at and (not self.timer or self.timer.done) then
    self.timer = sched.spawn(function()
      sched.sleep(self.deadline_at - S.now())
      self.timer = nil
      self:cancel("context deadline exceeded")
    end, { name = "context deadline", parent = sched.group_root() })
  end
  return self.done_channel
end
function Context:deadline()
  if not self.deadline_at then return nil, false end
  return S.wall_now() + (self.deadline_at - S.now()), true
end
function Context:with_cancel()
  local child = new_context(self)
  return child, function() child:cancel() end
end
function Context:with_timeout(ms)
  local child = new_context(self, S.now() + math.max(0, tonumber(ms) or 0))
  return child, function() child:cancel() end
end
function Context:with_deadline(epoch_ms)
  local child = new_context(self, S.now() + ((tonumber(epoch_ms) or 0) - S.wall_now()))
  return child, function() child:cancel() end
end
function go.context() return new_context(nil) end
-- Module forms: with_cancel([parent]), with_timeout(ms[, parent]) or (parent, ms).
function go.with_cancel(parent) return (parent or new_context(nil)):with_cancel() end
function go.with_timeout(a, b)
  if type(a) == "table" then return a:with_timeout(b) end
  return (b or new_context(nil)):with_timeout(a)
end

local pools = {}
function go.pool_create(name, opts)
  if pools[name] then return nil, "pool '" .. tostring(name) .. "' exists" end
  -- Jobs belong to the task that made the pool, also those started when an earlier job ends.
  pools[name] = { workers = math.max(1, tonumber((opts or {}).workers) or 4), queue = {}, active = {},
                  completed = 0, failed = 0, closed = false, results = {}, root = sched.group_root() }
  return true
end
local function pool_pump(pool)
  while #pool.queue > 0 and #pool.active < pool.workers do
    local job = table.remove(pool.queue, 1)
    local handle = sched.spawn(job.fn, { name = "pool job", parent = pool.root }, table.unpack(job.args, 1, job.args.n))
    handle.on_done = function(fiber)
      for i, h in ipairs(pool.active) do if h == fiber then table.remove(pool.active, i) break end end
      if fiber.ok then pool.completed = pool.completed + 1 else pool.failed = pool.failed + 1 end
      pool.results[#pool.results + 1] = handle_result(fiber)
      pool_pump(pool)
    end
    pool.active[#pool.active + 1] = handle
  end
end
function go.pool_submit(name, fn, ...)
  local pool = pools[name]
  if not pool or pool.closed then return nil, "no open pool '" .. tostring(name) .. "'" end
  pool.queue[#pool.queue + 1] = { fn = fn, args = table.pack(...) }
  pool_pump(pool)
  return true
end
function go.pool_wait(name)
  local pool = pools[name]
  if not pool then return nil, "no pool '" .. tostring(name) .. "'" end
  while #pool.active > 0 do sched.join_any({ table.unpack(pool.active) }) end
  return pool.results
end
function go.pool_stats(name)
  local pool = pools[name]
  if not pool then return nil, "no pool '" .. tostring(name) .. "'" end
  return { completed = pool.completed, failed = pool.failed, pending = #pool.queue, active = #pool.active,
           workers = pool.workers }
end
function go.pool_close(name)
  local pool = pools[name]
  if not pool then return nil, "no pool '" .. tostring(name) .. "'" end
  pool.closed = true
  go.pool_wait(name)
  pools[name] = nil
  return true
end

return M

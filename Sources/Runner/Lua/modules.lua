-- Built-in modules written in Lua over the host primitives: log, env and state.with_lock here; exec,
-- http and goroutine are parts of their own, loaded on first use (most runs touch none of them).
-- The ones that block yield to the scheduler, so parallel work really overlaps.
local S, util, sched, ctx = ...
local M = {}

function M.task_name()
  local fiber = sched.current()
  return fiber and fiber.task or nil
end

function M.workdir()
  return ctx.task_workdirs[M.task_name() or ""] or ctx.cwd
end
local task_name = M.task_name

-- log -----------------------------------------------------------------------------------------
M.log = {}
for _, level in ipairs({ "debug", "info", "warn", "error" }) do
  M.log[level] = function(message, fields)
    S.log(level, task_name(), tostring(message), type(fields) == "table" and fields or nil)
  end
end
M.log.warning = M.log.warn
M.log.print = M.log.info

-- env: the process environment plus this run's own changes, which the commands it starts inherit.
M.env = {}
function M.env.get(name, default)
  local value = ctx.env_overlay[name]
  if value == false then return default end
  if value == nil then value = os.getenv(name) end
  if value == nil then return default end
  return value
end
function M.env.set(name, value) ctx.env_overlay[tostring(name)] = tostring(value); return true end
function M.env.unset(name) ctx.env_overlay[tostring(name)] = false; return true end
function M.env.list()
  local all = S.environ()
  for k, v in pairs(ctx.env_overlay) do all[k] = v or nil end
  return all
end

-- state.with_lock(name, fn[, timeout_s]) -> fn's results; waits (yielding) for the lock.
function M.with_lock(name, fn, timeout)
  local deadline = S.now() + util.duration_ms(timeout or 30, "lock timeout")
  local owner = ctx.lock_owner
  while not state.__try_lock(name, owner, 300) do
    if S.now() >= deadline then error("state.with_lock: timed out waiting for lock '" .. tostring(name) .. "'", 2) end
    sched.sleep(50)
  end
  local results = table.pack(pcall(fn))
  state.__unlock(name, owner)
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

return M

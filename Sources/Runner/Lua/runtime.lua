-- Wires the runtime together: globals, require(), loading a workflow file, planning and running it.
-- Swift loads the other runtime files and passes them in; workflow code never sees the host table.
local S, load_part = ...
local util = {}
local sched = load_part("scheduler", S)
local dsl = load_part("dsl", S, util)
local executor = load_part("executor", S, util, sched, dsl)
local ctx = { cwd = S.cwd(), params = {}, env_overlay = {}, task_workdirs = {}, task_users = {}, lock_owner = S.lock_owner() }
local modules = load_part("modules", S, util, sched, ctx)

task = dsl.task
workflow = dsl.workflow
log = modules.log
env = modules.env
-- The built-in tables as they were before workflow code ran, for the parts loaded later.
modules.builtin = { fs = fs, file = file, data = data, log = log, state = state, crypto = crypto, facts = __sloth_facts }
__sloth_facts = nil
-- Parts few workflows use load on first use: undumping them costs more than a trivial run's tasks.
local loaded_parts = {}
local part
function part(name)
  local module = loaded_parts[name]
  if not module then
    module = load_part(name, S, util, sched, ctx, modules, part)
    loaded_parts[name] = module
  end
  return module
end
local lazy_globals = {
  exec = function() return part("exec").exec end,
  http = function() return part("http") end,
  net = function() return part("http") end,
  goroutine = function()
    local module = part("goroutine")
    for name, primitive in pairs(part("goroutine_sync")) do module[name] = primitive end
    return module
  end,
  infra_test = function() return part("infra_test") end,
}
-- Sloth Runner's other modules, by the part that holds them (docs/modules.md).
for file, names in pairs({
  system = "pkg user group systemd ssh stow python salt system facts", git = "git gitops",
  cloud = "docker incus terraform pulumi aws azure gcp digitalocean", validate = "validate template",
  database = "database db", monitor = "monitor metrics", notify = "notify notifications", reliability = "reliability help",
}) do
  for name in names:gmatch("%S+") do lazy_globals[name] = function() return part(file)[name] end end
end
setmetatable(_G, { __index = function(globals, name)
  local make = lazy_globals[name]
  if make then
    local module = make()
    rawset(globals, name, module)
    return module
  end
end })
sloth = { workflow = __sloth_workflow, stack = __sloth_stack, agent = __sloth_agent, version = S.version and S.version() }
__sloth_workflow, __sloth_stack, __sloth_agent = nil, nil, nil
os.execute = function(...) return part("exec").os_execute(...) end
-- print goes to the run's log (kept, masked, echoed on stderr), never to stdout, which `-o json` owns.
print = function(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  log.info(table.concat(parts, "\t", 1, parts.n))
end
state.with_lock = modules.with_lock
json = data
data.parse = data.json_parse
data.encode = data.json_encode
data.decode = data.json_parse
data.template = function(...) return part("validate").template.render_string(...) end
file_ops = file_ops or {}
file_ops.copy = function(spec) return fs.copy(spec.src, spec.dest, spec) end
file_ops.lineinfile = function(spec) return fs.lineinfile(spec.path, spec.line, spec) end
values = values or {}
-- A hook's run: the event's fields sit beside event.dispatch.
for key, value in pairs(__sloth_hook_event or {}) do event[key] = value end
if __sloth_hook_event then
  -- Sloth Runner's hooks read event.task / event.workflow for those families, and use contains().
  local family, data = type(event.type) == "string" and event.type:match("^(%a+)%."), event.data
  if type(data) == "table" and (family == "task" or family == "workflow") then
    if family == "task" and event.task == nil then
      event.task = setmetatable({ name = data.task_name }, { __index = data })
    end
    if event.workflow == nil then
      event.workflow = setmetatable({ name = data.workflow_name, id = data.workflow_id }, { __index = data })
    end
  end
  contains = function(list, value)
    for _, item in ipairs(type(list) == "table" and list or {}) do if item == value then return true end end
    return false
  end
end
__sloth_hook_event = nil
-- secrets.NAME reads like secrets.get("NAME") (a secret named "get" needs the call form).
setmetatable(secrets, { __index = function(_, name) return (rawget(secrets, "get")(name)) end })

-- Workflow code may load Lua text, never bytecode (malformed bytecode can crash the VM).
local lua_load, lua_loadfile = load, loadfile
-- An environment is passed on only when given: an explicit nil would become the chunk's _ENV.
load = function(chunk, name, _, ...)
  if select("#", ...) > 0 then return lua_load(chunk, name, "t", ...) end
  return lua_load(chunk, name, "t")
end
loadfile = function(path, _, ...)
  if select("#", ...) > 0 then return lua_loadfile(path, "t", ...) end
  return lua_loadfile(path, "t")
end
dofile = function(path) return assert(loadfile(path))() end

local modules_by_name = {
  log = log, fs = fs, file = file, file_ops = file_ops, state = state, data = data, json = json, crypto = crypto,
  event = event, values = values, env = env, sloth = sloth, secrets = secrets, stack = stack,
}
local lua_require, protected_call = require, pcall
-- Sloth Runner modules slothd does not have (docs/modules.md "Not yet"): named as such when required.
local absent_modules = { kubernetes = true, helm = true }
-- A failed require says which module, from the caller's line, in one line.
require = function(name)
  local module = modules_by_name[name] or (lazy_globals[name] and _G[name])
  if module then return module end
  if absent_modules[name] then
    error("module '" .. tostring(name) .. "' is not a module slothd provides (see docs/modules.md, \"Not yet\")", 2)
  end
  local ok, result = protected_call(lua_require, name)
  if ok then return result end
  local text = tostring(result)
  if text:find("^module '.-' not found") then
    local tried = {}
    for path in text:gmatch("no file '([^']+)'") do tried[#tried + 1] = path end
    error("module '" .. tostring(name) .. "' not found: not built in, and no file on package.path (tried " .. table.concat(tried, ", ") .. ")", 2)
  end
  error(result, 0)
end

-- What workflow code may not reach (SPEC section 5): the process (os.exit, the process-wide locale),
-- native code (package.loadlib, the C-module searchers, bytecode files), the interpreter's hooks,
-- upvalues and registry (debug), and slothd's own supervisor variables.
local function refused(name)
  return function() error(name .. " is not allowed in a workflow", 2) end
end
os.exit = refused("os.exit")
local lua_setlocale = os.setlocale
os.setlocale = function(locale, ...)
  if locale == nil then return lua_setlocale() end
  error("os.setlocale is not allowed in a workflow (it would change slothd's locale)", 2)
end
local hidden_variables = {
  NOTIFY_SOCKET = true, LISTEN_FDS = true, LISTEN_PID = true, LISTEN_FDNAMES = true, WATCHDOG_USEC = true, WATCHDOG_PID = true,
}
local lua_getenv = os.getenv
os.getenv = function(name)
  if hidden_variables[name] then return nil end
  return lua_getenv(name)
end
io.popen = function(...) return part("exec").popen(...) end
package.loadlib = nil
package.cpath = ""
local searchpath = package.searchpath
package.searchers = {
  package.searchers[1],
  function(name)
    local path, err = searchpath(name, package.path)
    if not path then return "\n\t" .. err end
    local chunk, load_err = lua_loadfile(path, "t")
    if not chunk then error(load_err, 0) end
    return chunk, path
  end,
}
-- Lua runs finalizers and xpcall's message handler with hooks off, where no cancel or timeout reaches:
-- workflows get no __gc, and an xpcall whose handler runs after the error has unwound.
local lua_setmetatable, lua_pcall, unpack, pack = setmetatable, pcall, table.unpack, table.pack
setmetatable = function(value, metatable)
  if type(metatable) == "table" and rawget(metatable, "__gc") ~= nil then
    error("__gc metamethods are not allowed in a workflow", 2)
  end
  return lua_setmetatable(value, metatable)
end
xpcall = function(fn, handler, ...)
  local results = pack(lua_pcall(fn, ...))
  if results[1] then return unpack(results, 1, results.n) end
  return false, handler(results[2])
end
debug = { traceback = debug.traceback, getinfo = debug.getinfo }
package.loaded.debug = debug  -- require("debug") must not hand back the full library

local runtime = {}

-- Runs the workflow file, which Swift compiled into the global __sloth_chunk.
function runtime.load(file_stem)
  local chunk = __sloth_chunk
  __sloth_chunk = nil
  local returned = chunk()
  dsl.finish_loading(returned, file_stem)
  local names = {}
  for _, wf in ipairs(dsl.workflows) do names[#names + 1] = wf.name end
  return names
end

local function find(name)
  for _, wf in ipairs(dsl.workflows) do if wf.name == name then return wf end end
end

-- -> {workflow=..., version=..., tasks={names}, needs={each task's depends_on, newline-joined}} or {error=..., kind=...}
function runtime.plan(name, selected)
  local wf
  if name then
    wf = find(name)
    if not wf then return { kind = "unknown_workflow", error = name } end
  elseif #dsl.workflows == 1 then
    wf = dsl.workflows[1]
  elseif #dsl.workflows == 0 then
    return { kind = "no_workflow", error = "the file defines no workflow and no task" }
  else
    return { kind = "ambiguous", error = "several workflows" }
  end
  local order, err, line = executor.plan(wf, selected)
  if not order then return { kind = "invalid", error = err, line = line } end
  runtime.planned = { wf = wf, order = order }
  local names, needs = {}, {}
  for _, def in ipairs(order) do
    names[#names + 1] = def.name
    needs[#needs + 1] = table.concat(def.depends_on or {}, "\n")
  end
  return { workflow = wf.name, version = wf.version and tostring(wf.version) or nil, tasks = names, needs = needs }
end

-- delegate: the agents of `--delegate-to`, for every task without its own delegate_to (nil: none).
function runtime.execute(params, delegate)
  for k, v in pairs(params or {}) do ctx.params[k] = v end
  ctx.delegate_to = delegate
  for _, def in ipairs(runtime.planned.order) do ctx.task_workdirs[def.name], ctx.task_users[def.name] = def.workdir, def.user end
  return executor.run(runtime.planned.wf, runtime.planned.order, ctx)
end

-- On an agent: runs only `task` of the planned workflow, once (the master keeps retries), with its
-- dependencies' outputs as given; the workflow's own hooks ran on the master. -> the task's record.
function runtime.execute_task(task, params, deps)
  local def
  for _, candidate in ipairs(runtime.planned.wf.tasks) do if candidate.name == task then def = candidate end end
  local copy = {}
  for k, v in pairs(def) do copy[k] = v end
  copy.depends_on, copy.retries, copy.delegate_to, copy.on_success, copy.on_failure = nil, 0, nil, nil, nil
  for k, v in pairs(params or {}) do ctx.params[k] = v end
  ctx.on_agent, ctx.given_deps = true, deps or {}
  ctx.task_workdirs[copy.name], ctx.task_users[copy.name] = copy.workdir, copy.user
  local wf = { name = runtime.planned.wf.name, version = runtime.planned.wf.version, tasks = { copy } }
  return executor.run(wf, { copy }, ctx).tasks[1]
end

return runtime

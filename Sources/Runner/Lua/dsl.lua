-- The Modern DSL: task builders and the four workflow forms. Definitions are plain tables; a builder
-- wraps one and refuses unknown methods with the caller's line.
local S, util = ...
local dsl = { workflows = {}, tasks = {} }
local getinfo = debug.getinfo

local function fail(message, level)
  error(message, (level or 1) + 1)
end

-- "30s", "5m", "1h30m", "250ms" or a number of seconds -> milliseconds.
function util.duration_ms(value, what)
  if type(value) == "number" then return math.floor(value * 1000) end
  if type(value) ~= "string" or value == "" then return nil, "invalid " .. what .. ": " .. tostring(value) end
  local total, rest = 0, value
  while rest ~= "" do
    local number, unit, tail = rest:match("^(%d+%.?%d*)(%a+)(.*)$")
    local size = ({ ms = 1, s = 1000, m = 60000, h = 3600000, d = 86400000 })[unit or ""]
    if not number or not size then
      if rest:match("^%d+%.?%d*$") then return total + math.floor(tonumber(rest) * 1000) end
      return nil, "invalid " .. what .. " \"" .. value .. "\" (use 30s, 5m, 1h30m or seconds)"
    end
    total, rest = total + math.floor(tonumber(number) * size), tail
  end
  return total
end

-- A task's name from its name, its built definition or its builder.
local function name_of(value)
  if type(value) == "string" then return value end
  local def = dsl.task_def(value)
  return def and def.name
end

local function names_of(value, method)
  local single = name_of(value)
  if single then return { single } end
  if type(value) ~= "table" then fail(method .. " expects a task, a task name or a list of them", 3) end
  local names = {}
  for _, item in ipairs(value) do
    local name = name_of(item)
    if not name then fail(method .. " expects tasks or task names", 3) end
    names[#names + 1] = name
  end
  return names
end

local task_methods = {}

local function callable(value, method)
  if type(value) ~= "function" and type(value) ~= "string" then
    fail(method .. " expects a function or a shell command string", 3)
  end
  return value
end

function task_methods:description(text) self.__def.description = tostring(text); return self end
function task_methods:command(fn) self.__def.command = callable(fn, "command"); return self end
task_methods.run = task_methods.command
function task_methods:depends_on(value) self.__def.depends_on = names_of(value, "depends_on"); return self end
function task_methods:timeout(value)
  local ms, err = util.duration_ms(value, "timeout")
  if not ms then fail(err, 2) end
  self.__def.timeout_ms = ms
  return self
end
function task_methods:retries(count, strategy)
  if type(count) ~= "number" or count < 0 or count ~= math.floor(count) then fail("retries expects a whole number >= 0", 2) end
  strategy = strategy or "fixed"
  if strategy ~= "fixed" and strategy ~= "linear" and strategy ~= "exponential" then
    fail("unknown retry strategy \"" .. tostring(strategy) .. "\" (fixed, linear or exponential)", 2)
  end
  self.__def.retries, self.__def.retry_strategy = count, strategy
  return self
end
function task_methods:workdir(path) self.__def.workdir = tostring(path); return self end
-- The task's commands run as this user (slothd must be able to switch to it).
function task_methods:user(name)
  if type(name) ~= "string" or name == "" then fail("user expects a user name", 2) end
  self.__def.user = name
  return self
end
function task_methods:delegate_to(target) self.__def.delegate_to = target; return self end
function task_methods:on_success(fn) self.__def.on_success = callable(fn, "on_success"); return self end
function task_methods:on_failure(fn) self.__def.on_failure = callable(fn, "on_failure"); return self end
task_methods.on_fail = task_methods.on_failure
function task_methods:run_if(fn) self.__def.run_if = callable(fn, "run_if"); return self end
function task_methods:abort_if(fn) self.__def.abort_if = callable(fn, "abort_if"); return self end
function task_methods:artifacts(globs) self.__def.artifacts = names_of(globs, "artifacts"); return self end
function task_methods:params(values)
  if type(values) ~= "table" then fail("params expects a table", 2) end
  self.__def.params = values
  return self
end
function task_methods:build() return self.__def end

-- A builder's metatable: its methods, and an error at the caller's line for anything else.
local function builder(kind, methods)
  return {
    __index = function(self, key)
      local method = methods[key]
      if method then return method end
      fail(string.format("unknown %s builder method '%s' on %s '%s'", kind, tostring(key), kind, rawget(self, "__def").name), 2)
    end,
  }
end

local TaskBuilder = builder("task", task_methods)

local function new_task(name, line)
  local def = { name = name, depends_on = {}, retries = 0, __task = true, line = line }
  dsl.tasks[#dsl.tasks + 1] = def
  return setmetatable({ __def = def }, TaskBuilder)
end

-- A plain task table (`{name = "x", command = fn, depends_on = {...}}`, `run` for `command`) through
-- the builder's methods, so it is checked like a built task; `name` may come from its key instead.
local plain_fields = {
  command = "command", run = "command", depends_on = "depends_on", timeout = "timeout", workdir = "workdir", user = "user",
  delegate_to = "delegate_to", on_success = "on_success", on_failure = "on_failure", on_fail = "on_failure", run_if = "run_if",
  abort_if = "abort_if", artifacts = "artifacts", params = "params", description = "description",
}
local function plain_task(spec, name, level)
  name = spec.name or name
  if type(name) ~= "string" or name == "" then fail("a task table needs a name", level + 1) end
  local info = getinfo(level + 1, "l")
  local task = new_task(name, info and info.currentline)
  for key, value in pairs(spec) do
    local method = plain_fields[key]
    if method then
      local ok, err = pcall(task_methods[method], task, value)
      if not ok then fail("task '" .. name .. "': " .. tostring(err):gsub("^[^:]*:%d+: ", ""), level + 1) end
    elseif key ~= "name" and key ~= "retries" and key ~= "retry_strategy" then
      fail("task '" .. name .. "': unknown field '" .. tostring(key) .. "'", level + 1)
    end
  end
  if spec.retries ~= nil then task:retries(spec.retries, spec.retry_strategy) end
  return task.__def
end

function dsl.task(name)
  if type(name) == "table" and dsl.task_def(name) == nil then return setmetatable({ __def = plain_task(name, nil, 2) }, TaskBuilder) end
  if type(name) ~= "string" or name == "" then fail("task() expects a name", 2) end
  local info = getinfo(2, "Sl")
  return new_task(name, info and info.currentline)
end

-- A built task, or a builder whose build() was never called.
function dsl.task_def(value)
  if type(value) ~= "table" then return nil end
  local def = rawget(value, "__def")
  if def then return def end
  if rawget(value, "__task") then return value end
  return nil
end

local function register(def, level)
  for _, existing in ipairs(dsl.workflows) do
    if existing.name == def.name then fail("workflow '" .. def.name .. "' is defined twice", level + 1) end
  end
  dsl.workflows[#dsl.workflows + 1] = def
end

-- A task of a workflow's list: built, a builder, or a plain table (its key the name when keyed).
local function list_item(item, key, level)
  local def = dsl.task_def(item)
  if def then return def end
  if type(item) == "table" and (type(key) == "string" or item.command ~= nil or item.run ~= nil or item.name ~= nil) then
    local plain = plain_task(item, type(key) == "string" and key or nil, level + 1)
    return plain  -- not a tail call: the error levels count this frame
  end
  fail("tasks[" .. (type(key) == "string" and string.format("%q", key) or tostring(key)) .. "] is not a task", level + 1)
end

-- A list of tasks, or a table of them keyed by name (taken in name order).
local function task_list(tasks, level)
  if type(tasks) ~= "table" then fail("tasks must be a list of tasks", level + 1) end
  local list = {}
  for i, item in ipairs(tasks) do list[#list + 1] = list_item(item, i, level + 1) end
  local keys = {}
  for key in pairs(tasks) do
    if math.type(key) ~= "integer" or key < 1 or key > #tasks then keys[#keys + 1] = key end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, key in ipairs(keys) do list[#list + 1] = list_item(tasks[key], key, level + 1) end
  return list
end

local workflow_methods = {}
for _, field in ipairs({ "description", "version", "metadata", "on_start", "on_complete" }) do
  workflow_methods[field] = function(self, value) self.__def[field] = value; return self end
end
function workflow_methods:tasks(tasks) self.__def.tasks = task_list(tasks, 2); return self end
function workflow_methods:config(config)
  if type(config) ~= "table" then fail("config expects a table", 2) end
  self.__def.config = config
  return self
end
-- workflow(name):task(name, fn) form
function workflow_methods:task(name, fn)
  local def = dsl.task(name).__def
  def.command = callable(fn, "task")
  def.delegate_to = self.__def.delegate_all
  self.__def.tasks[#self.__def.tasks + 1] = def
  return self
end
-- Sloth Runner's builders end with :build(); the workflow is registered already.
function workflow_methods:build() return self.__def end
function workflow_methods:delegate_to(target)
  self.__def.delegate_all = target
  for _, def in ipairs(self.__def.tasks) do def.delegate_to = target end
  return self
end

local WorkflowBuilder = builder("workflow", workflow_methods)

-- The line of the user's code `level` frames up from the caller, for errors found after loading.
local function line_of(level)
  local info = getinfo(level + 1, "l")
  return info and info.currentline
end

local function new_workflow(name, level)
  if type(name) ~= "string" or name == "" then fail("a workflow needs a name", level + 1) end
  local def = { name = name, tasks = {}, config = {}, line = line_of(level + 1) }
  register(def, level + 1)
  return setmetatable({ __def = def }, WorkflowBuilder)
end

-- No tail calls into new_workflow: the caller's frame must stay, for the line it records.
dsl.workflow = setmetatable({}, { __call = function(_, name)
  local builder = new_workflow(name, 2)
  return builder
end })

function dsl.workflow.define(name, spec)
  if spec == nil then
    local builder = new_workflow(name, 2)
    return builder
  end
  if type(spec) ~= "table" then fail("workflow.define expects a name and a table", 2) end
  local def = {
    name = name, description = spec.description, version = spec.version, metadata = spec.metadata,
    tasks = task_list(spec.tasks or {}, 2), config = spec.config or {},
    on_start = spec.on_start, on_complete = spec.on_complete, line = line_of(2),
  }
  if type(name) ~= "string" or name == "" then fail("a workflow needs a name", 2) end
  register(def, 2)
  return def
end

-- After the file ran: a returned task list, or loose tasks, form one workflow named after the file.
function dsl.finish_loading(returned, file_stem)
  if type(returned) == "table" and #dsl.workflows == 0 then
    local list = {}
    for _, item in ipairs(returned) do
      local def = dsl.task_def(item)
      if def then list[#list + 1] = def end
    end
    if #list > 0 then dsl.workflows[1] = { name = file_stem, tasks = list, config = {} } end
  end
  if #dsl.workflows == 0 and #dsl.tasks > 0 then
    dsl.workflows[1] = { name = file_stem, tasks = dsl.tasks, config = {} }
  end
end

return dsl

-- Runs one workflow: a DAG of tasks in dependency order, up to max_parallel_tasks at once, with
-- run_if/abort_if, retries with backoff, per-attempt timeouts, fail_fast and the workflow timeout.
local S, util, sched, dsl = ...
local executor = {}
local getlocal = debug.getlocal  -- the runtime keeps it; workflow code gets a reduced debug table

-- Dependency closure of the selected tasks, unknown names and cycles: errors name the task, and the
-- line of its definition where one is known (nil, message, line).
function executor.plan(wf, selected)
  if #wf.tasks == 0 then return nil, "workflow '" .. wf.name .. "' defines no task", wf.line end
  local by_name, order, names = {}, {}, {}
  for _, def in ipairs(wf.tasks) do
    if by_name[def.name] then return nil, "task '" .. def.name .. "' is defined twice in workflow '" .. wf.name .. "'", def.line end
    by_name[def.name] = def
    names[#names + 1] = def.name
  end
  for _, def in ipairs(wf.tasks) do
    for _, dep in ipairs(def.depends_on or {}) do
      if not by_name[dep] then
        return nil, string.format("task '%s' depends on unknown task '%s'", def.name, dep), def.line
      end
    end
  end
  local visiting, visited = {}, {}
  local function visit(name, path)
    if visited[name] then return true end
    if visiting[name] then return nil, "dependency cycle: " .. table.concat(path, " -> ") .. " -> " .. name end
    visiting[name] = true
    path[#path + 1] = name
    for _, dep in ipairs(by_name[name].depends_on or {}) do
      local ok, err = visit(dep, path)
      if not ok then return nil, err end
    end
    path[#path] = nil
    visiting[name], visited[name] = nil, true
    return true
  end
  for _, def in ipairs(wf.tasks) do
    local ok, err = visit(def.name, {})
    if not ok then return nil, err end
  end
  local wanted = {}
  if selected and #selected > 0 then
    local function want(name)
      if wanted[name] then return end
      wanted[name] = true
      for _, dep in ipairs(by_name[name].depends_on or {}) do want(dep) end
    end
    for _, name in ipairs(selected) do
      if not by_name[name] then
        return nil, "workflow '" .. wf.name .. "' has no task '" .. name .. "' (its tasks: " .. table.concat(names, ", ") .. ")"
      end
      want(name)
    end
  end
  for _, def in ipairs(wf.tasks) do
    if not selected or #selected == 0 or wanted[def.name] then order[#order + 1] = def end
  end
  return order
end

-- fn(this, params, ...) or, when its first parameter is named `params`, fn(params, ...).
local function call_style(fn, this, params, ...)
  if getlocal(fn, 1) == "params" then return fn(params, ...) end
  return fn(this, params, ...)
end

-- this.workdir: get(), and ensure()/cleanup() (create it, remove it) for a workdir the task declared;
-- cleanup never removes `/` or the directory the workflow runs from (or one holding it).
local function workdir_of(def, workdir, cwd)
  local function declared(what)
    if not def.workdir then error("this.workdir." .. what .. "(): task '" .. def.name .. "' declares no :workdir(path)", 3) end
    return def.workdir
  end
  local function removable()
    local path = declared("cleanup"):gsub("/+$", "")
    if path == "" or path == "/" or cwd == path or cwd:sub(1, #path + 1) == path .. "/" then
      error("this.workdir.cleanup(): refusing to remove " .. def.workdir .. " (it is / or holds the directory the workflow runs from)", 3)
    end
    return path
  end
  local function method(fn) return function(first, ...) if type(first) == "table" then return fn(...) end return fn(first, ...) end end
  return {
    get = method(function() return workdir end),
    exists = method(function() return fs.exists(workdir) end),
    ensure = method(function() return fs.mkdir(declared("ensure")) end),
    cleanup = method(function() return fs.rm(removable(), { force = true }) end),
  }
end

local function make_this(def, workdir, params, cwd)
  local function getter(value) return { get = function() return value end } end
  return {
    name = function() return def.name end,
    workdir = workdir_of(def, workdir, cwd),
    agent = getter(def.delegate_to),
    params = params,
    description = def.description,
  }
end

-- A failed command's one-line error (exec's `error`: its exit status and last stderr line).
local function failure_text(result)
  if type(result.error) == "string" and result.error ~= "" then return result.error end
  if type(result.stderr) == "string" and result.stderr ~= "" then return result.stderr end
  return "command failed"
end

-- The command's return values as (ok, message, outputs); anything unexpected is an error.
local function interpret(values)
  if values.n == 0 then return true, nil, {} end
  local first = values[1]
  if type(first) == "boolean" then
    local outputs = values[3]
    if outputs ~= nil and type(outputs) ~= "table" then outputs = { value = outputs } end
    return first, values[2] ~= nil and tostring(values[2]) or nil, outputs or {}
  end
  if type(first) == "table" and type(first.success) == "boolean" then
    -- A command's stdout is in its outputs (and the log): it is not repeated as the task's message.
    if first.success then return true, nil, first end
    return false, failure_text(first), first
  end
  if first == nil then
    return false, values[2] ~= nil and tostring(values[2]) or "task returned nil", {}
  end
  return false, "task returned a " .. type(first) ..
    ": expected true/false (with a message and outputs), a table with a boolean `success`, or nothing", {}
end

-- A function condition, or a shell command whose exit status 0 means true.
local function condition(value, this, params, deps)
  if type(value) == "string" then return exec.run(value, { workdir = this.workdir.get() }).success end
  return call_style(value, this, params, deps) and true or false
end

local function backoff_ms(attempt, strategy)
  local seconds = 1
  if strategy == "linear" then seconds = attempt
  elseif strategy == "exponential" then seconds = 2 ^ (attempt - 1) end
  return math.min(seconds, 60) * 1000
end

-- Converted after pcall returns, never in a message handler: handlers run with hooks off, where a
-- workflow's __tostring could loop beyond any timeout.
local function error_value(err)
  if type(err) == "table" then return err end
  return tostring(err)
end

local function run_hook(fn, this, params, payload, def)
  local ok, err = pcall(call_style, fn, this, params, payload)
  if not ok then S.log("warn", def.name, "hook failed: " .. tostring(err), nil) end
end

-- One attempt of a task's command, in its own fiber so that a timeout can stop it.
local function attempt(def, this, params, deps)
  if type(def.command) == "string" then
    return interpret(table.pack(exec.run(def.command, { workdir = this.workdir.get() })))
  end
  if def.command == nil then return true, nil, {} end
  local values = table.pack(pcall(call_style, def.command, this, params, deps))
  if not values[1] then error(error_value(values[2]), 0) end
  return interpret(table.pack(table.unpack(values, 2, values.n)))
end

-- One attempt of a delegated task on an agent (SPEC section 8): the master picks the agent, the agent
-- runs the task and sends its result back; a timeout or cancel of this fiber cancels it there.
local function delegated_attempt(def, target, record, params, deps)
  local sent = {}
  for k, v in pairs(params) do if k ~= "task_name" and k ~= "workdir" then sent[k] = v end end
  local result = sched.await_op(S.delegate_start({
    target = target, task = def.name, params = sent, deps = deps, timeout_ms = def.timeout_ms,
  }))
  record.agent = result.agent or record.agent
  local output = result.output or {}
  if math.type(result.exit_code) == "integer" then output.exit_code = output.exit_code or result.exit_code end
  if result.success then return true, nil, output end
  return false, result.error or "delegated task failed", output
end

-- Runs a task to its end (all attempts); returns its record.
local function run_task(def, ctx)
  local record = { name = def.name, status = "running", attempts = 0, started = S.now(), started_at = S.wall_now() }
  S.task_update(record)
  -- On an agent the task is already where it was sent: it never delegates again.
  local delegate = not ctx.on_agent and (def.delegate_to or ctx.delegate_to) or nil
  local workdir = def.workdir or ctx.cwd
  local params = {}
  for k, v in pairs(def.params or {}) do params[k] = v end
  for k, v in pairs(ctx.params) do params[k] = v end
  params.task_name, params.workdir = def.name, workdir
  local deps = ctx.given_deps or {}
  if not ctx.given_deps then
    for _, dep in ipairs(def.depends_on or {}) do deps[dep] = ctx.records[dep].output or {} end
  end
  local this = make_this(def, workdir, params, ctx.cwd)

  local function decide(value, what)
    local ok, result = pcall(condition, value, this, params, deps)
    if not ok then record.status, record.error = "failed", what .. " failed: " .. tostring(result) end
    return ok, result
  end
  if def.abort_if then
    local ok, abort = decide(def.abort_if, "abort_if")
    if not ok then return record end
    if abort then
      record.status, record.error, record.aborted = "failed", "aborted by abort_if", true
      return record
    end
  end
  if def.run_if then
    local ok, run = decide(def.run_if, "run_if")
    if not ok then return record end
    if not run then
      record.status, record.message = "skipped", "run_if condition is false"
      return record
    end
  end

  local max_attempts = (def.retries or 0) + 1
  while true do
    record.attempts = record.attempts + 1
    local deadline = def.timeout_ms and (S.now() + def.timeout_ms) or nil
    local fiber
    if delegate ~= nil then
      fiber = sched.spawn(delegated_attempt, { deadline = deadline, task = def.name, name = def.name, group_root = true }, def, delegate, record,
                          params, deps)
    else
      fiber = sched.spawn(attempt, { deadline = deadline, task = def.name, name = def.name, group_root = true }, def, this, params, deps)
    end
    local ok, values, reason = sched.join(fiber)
    local result = ok and values[3]
    if type(result) == "table" and math.type(rawget(result, "exit_code")) == "integer" then record.exit_code = result.exit_code end
    if ok and values[1] then
      record.status, record.message, record.output, record.error = "success", values[2], values[3] or {}, nil
      break
    end
    if reason == "timed out" then
      record.status = "timed_out"
      record.error = "timed out after " .. string.format("%gs", def.timeout_ms / 1000)
    elseif reason then
      record.status, record.error = "cancelled", reason
    elseif ok then
      record.status, record.error, record.output = "failed", values[2] or "task failed", values[3]
    else
      record.status, record.error = "failed", tostring(values[1])
    end
    if record.status == "cancelled" or record.attempts >= max_attempts then break end
    S.log("warn", def.name, string.format("attempt %d/%d failed: %s; retrying", record.attempts, max_attempts, record.error), nil)
    sched.sleep(backoff_ms(record.attempts, def.retry_strategy))
  end

  if record.status == "success" and def.artifacts and delegate == nil then record.artifacts = S.glob(def.artifacts, workdir) end
  if record.status == "success" and def.on_success then
    run_hook(def.on_success, this, params, record.output, def)
  elseif record.status ~= "success" and def.on_failure then
    run_hook(def.on_failure, this, params, { error = record.error, task_name = def.name, status = record.status }, def)
  end
  return record
end

-- Runs `wf` (its planned task order) to the end and returns the run's result table.
function executor.run(wf, order, ctx)
  ctx.records = {}
  local started = S.now()
  local config = wf.config or {}
  local max_parallel = math.max(1, tonumber(config.max_parallel_tasks) or 1)
  local wf_timeout = config.timeout and util.duration_ms(config.timeout, "workflow timeout")
  local stop_reason, workflow_error
  local running = {}   -- name -> fiber

  local names = {}
  for _, def in ipairs(order) do
    ctx.records[def.name] = { name = def.name, status = "pending", attempts = 0 }
    names[#names + 1] = def.name
  end
  S.tasks_planned(names)

  local function stop_all(reason)
    stop_reason = stop_reason or reason
    for _, fiber in pairs(running) do sched.kill(fiber, reason) end
  end

  local function driver()
    if wf.on_start then wf.on_start() end
    while true do
      local progressed = true
      while progressed do
        progressed = false
        local count = 0
        for _ in pairs(running) do count = count + 1 end
        for _, def in ipairs(order) do
          local record = ctx.records[def.name]
          if record.status == "pending" then
            local blocked, failed_dep, skipped_dep = false, nil, nil
            for _, dep in ipairs(def.depends_on or {}) do
              local dep_record = ctx.records[dep]
              if dep_record.status == "pending" or dep_record.status == "running" then blocked = true
              elseif dep_record.status == "skipped" and dep_record.message then skipped_dep = skipped_dep or dep
              elseif dep_record.status ~= "success" then failed_dep = failed_dep or dep end
            end
            if stop_reason then
              record.status, record.error = "cancelled", stop_reason
              S.task_update(record)
              progressed = true
            elseif failed_dep then
              record.status, record.error = "skipped", "dependency '" .. failed_dep .. "' did not succeed"
              S.task_update(record)
              progressed = true
            elseif skipped_dep and not blocked then
              record.status, record.message = "skipped", "dependency '" .. skipped_dep .. "' was skipped"
              S.task_update(record)
              progressed = true
            elseif not blocked and count < max_parallel then
              record.status = "running"
              local fiber = sched.spawn(run_task, { task = def.name, name = "task " .. def.name }, def, ctx)
              running[def.name] = fiber
              count, progressed = count + 1, true
            end
          end
        end
      end
      local list = {}
      for _, fiber in pairs(running) do list[#list + 1] = fiber end
      if #list == 0 then break end
      sched.join_any(list)
      for name, fiber in pairs(running) do
        if fiber.done then
          running[name] = nil
          local record = fiber.ok and fiber.values[1] or {
            name = name, status = "failed", error = tostring(fiber.values[1]),
          }
          if fiber.reason and not fiber.ok then
            record.status = stop_reason == "workflow timed out" and "timed_out" or "cancelled"
            record.error = stop_reason or fiber.reason
          end
          record.duration_ms = S.now() - (record.started or started)
          if record.started_at then record.ended_at = S.wall_now() end
          S.task_update(record)
          ctx.records[name] = record
          if record.aborted then
            stop_all("aborted by task '" .. name .. "'")
          elseif (record.status == "failed" or record.status == "timed_out") and config.fail_fast then
            stop_all("cancelled: fail_fast after task '" .. name .. "' failed")
          end
        end
      end
    end
  end

  local driver_fiber = sched.spawn(driver, { name = "workflow " .. wf.name })
  local watchdog
  if wf_timeout then
    watchdog = sched.spawn(function()
      sched.sleep(wf_timeout)
      if not driver_fiber.done then
        workflow_error = "workflow timed out after " .. string.format("%gs", wf_timeout / 1000)
        stop_reason = "workflow timed out"
        for _, fiber in pairs(running) do sched.kill(fiber, "workflow timed out") end
      end
    end, { name = "workflow timeout" })
  end
  sched.run_until(function() return driver_fiber.done end)
  if watchdog then sched.kill(watchdog, "workflow finished") end
  if not driver_fiber.ok then workflow_error = workflow_error or tostring(driver_fiber.values[1]) end

  local status = workflow_error and "failed" or "success"
  local tasks, outputs, failures = {}, {}, {}
  for _, def in ipairs(order) do
    local record = ctx.records[def.name]
    if record.status == "pending" or record.status == "running" then
      record.status, record.error = "cancelled", record.error or stop_reason or workflow_error
    end
    tasks[#tasks + 1] = record
    if record.status == "success" then outputs[def.name] = record.output end
    if record.status ~= "success" and not (record.status == "skipped" and record.message) then
      status = "failed"
      failures[#failures + 1] = def.name .. ": " .. tostring(record.error or record.status)
    end
  end
  if wf.on_complete then
    local ok, err = pcall(wf.on_complete, status == "success", ctx.records)
    if not ok then S.log("warn", nil, "on_complete failed: " .. tostring(err), nil) end
  end
  local error_text = workflow_error or (stop_reason ~= nil and stop_reason) or nil
  if status == "failed" and not error_text then error_text = failures[1] end
  return {
    workflow = wf.name, version = wf.version, status = status, error = error_text,
    duration_ms = S.now() - started, tasks = tasks, outputs = outputs,
  }
end

return executor

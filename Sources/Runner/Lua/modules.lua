-- Built-in modules written in Lua over the host primitives: the ones that block (exec, os.execute,
-- http, goroutine, state.with_lock) yield to the scheduler, so parallel work really overlaps.
local S, util, sched, ctx = ...
local M = {}

local function task_name()
  local fiber = sched.current()
  return fiber and fiber.task or nil
end

local function workdir()
  return ctx.task_workdirs[task_name() or ""] or ctx.cwd
end

-- log -----------------------------------------------------------------------------------------
M.log = {}
for _, level in ipairs({ "debug", "info", "warn", "error" }) do
  M.log[level] = function(message, fields)
    S.log(level, task_name(), tostring(message), type(fields) == "table" and fields or nil)
  end
end
M.log.warning = M.log.warn
M.log.print = M.log.info

-- exec ----------------------------------------------------------------------------------------
M.exec = {}

local function exec_spec(command, opts)
  opts = opts or {}
  local spec = { env = opts.env, user = opts.user, stdin = opts.stdin, workdir = opts.workdir or opts.cwd or workdir(),
                 task = task_name() }
  if type(command) == "table" then spec.argv = command else spec.command = tostring(command) end
  if opts.timeout then spec.timeout_ms = util.duration_ms(opts.timeout, "exec timeout") end
  for k, v in pairs(ctx.env_overlay) do
    spec.env = spec.env or {}
    if spec.env[k] == nil then spec.env[k] = v end  -- false: removed from the command's environment
  end
  return spec
end

-- exec.run(cmd[, opts]) -> {success, stdout, stderr, exit_code}; cmd is a shell string or an argv list.
function M.exec.run(command, opts)
  if command == nil then error("exec.run expects a command", 2) end
  return sched.await_op(S.exec_start(exec_spec(command, opts)))
end
M.exec.command = M.exec.run
M.exec.shell = M.exec.run
function M.exec.script(path, opts)
  opts = opts or {}
  local argv = { opts.interpreter or "/bin/sh", tostring(path) }
  for _, arg in ipairs(opts.args or {}) do argv[#argv + 1] = tostring(arg) end
  return M.exec.run(argv, opts)
end

-- os.execute keeps Lua's contract (true|nil, "exit"|"signal", code) but yields; what the command
-- prints goes to the run's log as every command's does.
function M.os_execute(command)
  if command == nil then return true end
  local result = M.exec.run(command)
  if result.signal then return nil, "signal", result.signal end
  if result.exit_code == 0 then return true, "exit", 0 end
  return nil, "exit", result.exit_code
end

-- io.popen runs its command the way exec.run does (yielding, in its own process group, ended with its
-- run): in "r" mode the command runs to its end at once and the handle reads what it printed; in "w"
-- mode what is written goes to the command's standard input when the handle is closed. What the
-- command prints is in the run's log either way.
local function exit_triple(result)
  if result.signal then return nil, "signal", result.signal end
  if result.exit_code == 0 then return true, "exit", 0 end
  return nil, "exit", result.exit_code
end

local PopenFile = {}
PopenFile.__index = PopenFile
PopenFile.__name = "FILE*"

local function read_one(file, format)
  local data, pos = file.data, file.pos
  if type(format) == "number" then
    if pos > #data then return nil end
    file.pos = pos + format
    return data:sub(pos, pos + format - 1)
  end
  format = tostring(format):gsub("^%*", "")
  if format:sub(1, 1) == "a" then
    file.pos = #data + 1
    return data:sub(pos)
  elseif format:sub(1, 1) == "n" then
    local start, stop = data:find("^%s*[-+]?[%d%.xXa-fA-FpP]+", pos)
    if not start then return nil end
    file.pos = stop + 1
    return tonumber((data:sub(start, stop):gsub("^%s+", "")))
  end
  if pos > #data then return nil end
  local newline = data:find("\n", pos, true)
  local stop = newline or #data
  file.pos = stop + 1
  if format:sub(1, 1) == "L" then return data:sub(pos, stop) end
  return data:sub(pos, newline and stop - 1 or stop)
end

function PopenFile:read(...)
  if self.closed then error("attempt to use a closed file", 2) end
  if self.mode ~= "r" then return nil, "file not readable" end
  local formats = table.pack(...)
  if formats.n == 0 then return read_one(self, "l") end
  local results = {}
  for i = 1, formats.n do
    results[i] = read_one(self, formats[i])
    if results[i] == nil then return table.unpack(results, 1, i) end
  end
  return table.unpack(results, 1, formats.n)
end

function PopenFile:lines(...)
  local formats = table.pack(...)
  return function() return self:read(table.unpack(formats, 1, formats.n)) end
end

function PopenFile:write(...)
  if self.closed then error("attempt to use a closed file", 2) end
  if self.mode ~= "w" then return nil, "file not writable" end
  for i = 1, select("#", ...) do self.input[#self.input + 1] = tostring((select(i, ...))) end
  return self
end

function PopenFile:close()
  if self.closed then error("attempt to use a closed file", 2) end
  self.closed = true
  if self.mode == "w" then
    local result = sched.await_op(S.exec_start(exec_spec(self.command, { stdin = table.concat(self.input) })))
    self.result = result
  end
  return exit_triple(self.result)
end

function PopenFile:flush() return self end
function PopenFile:setvbuf() return true end
function PopenFile:seek() return nil, "cannot seek a pipe" end
PopenFile.__close = function(self) if not self.closed then self:close() end end
PopenFile.__tostring = function(self) return self.closed and "file (closed)" or "file (popen)" end

function M.popen(command, mode)
  if type(command) ~= "string" then error("bad argument #1 to 'popen' (string expected, got " .. type(command) .. ")", 2) end
  mode = mode or "r"
  if mode ~= "r" and mode ~= "w" then error("bad argument #2 to 'popen' (invalid mode '" .. tostring(mode) .. "')", 2) end
  local file = setmetatable({ command = command, mode = mode, data = "", pos = 1, input = {}, closed = false }, PopenFile)
  if mode == "r" then
    file.result = M.exec.run(command)
    file.data = tostring(file.result.stdout or "")
  end
  return file
end

-- http ----------------------------------------------------------------------------------------
M.http = {}

local function http_call(method, url, opts)
  if type(url) == "table" then url, opts = url.url, url end
  opts = opts or {}
  if type(url) ~= "string" or url == "" then return nil, "http." .. method:lower() .. ": a url is required" end
  local headers, body = {}, opts.body
  for k, v in pairs(opts.headers or {}) do headers[k] = tostring(v) end
  if opts.json ~= nil then
    body = data.json_encode(opts.json)
    headers["Content-Type"] = headers["Content-Type"] or "application/json"
  elseif type(body) == "table" then
    body = data.json_encode(body)
    headers["Content-Type"] = headers["Content-Type"] or "application/json"
  end
  local attempts = 1 + math.max(0, tonumber(opts.max_retries or opts.retries) or 0)
  local response, err
  for attempt = 1, attempts do
    response = sched.await_op(S.http_start({
      method = method, url = url, headers = headers, body = body, destination = opts.destination,
      timeout_ms = util.duration_ms(opts.timeout or 30, "http timeout"), follow = opts.follow_redirects ~= false,
    }))
    if response.error then err, response = response.error, nil end
    if response and response.status_code < 500 then break end
    if attempt < attempts then sched.sleep(math.min(2 ^ (attempt - 1), 30) * 1000) end
  end
  if not response then return nil, err end
  local content_type = ""
  for k, v in pairs(response.headers or {}) do if k:lower() == "content-type" then content_type = v end end
  if content_type:find("json") and response.body ~= "" then
    local ok, decoded = pcall(data.json_parse, response.body)
    if ok then response.json = decoded end
  end
  response.status = response.status_code
  response.success = response.status_code >= 200 and response.status_code < 300
  return response
end

for _, method in ipairs({ "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" }) do
  M.http[method:lower()] = function(url, opts) return http_call(method, url, opts) end
end
function M.http.request(opts, maybe)
  if type(opts) == "string" then return http_call(opts:upper(), maybe and maybe.url or maybe, maybe) end
  return http_call(tostring(opts.method or "GET"):upper(), opts.url, opts)
end
function M.http.download(url, destination)
  local opts = type(url) == "table" and url or { url = url, destination = destination }
  if not opts.destination then return nil, "http.download: a destination is required" end
  local response, err = http_call("GET", opts.url, opts)
  if not response then return nil, err end
  if not response.success then return nil, "download failed with HTTP " .. response.status_code end
  return true
end
function M.http.is_success(code) return code >= 200 and code < 300 end
function M.http.is_error(code) return code >= 400 end
function M.http.to_json(value) return data.json_encode(value) end
function M.http.parse_json(text) return data.json_parse(text) end
function M.http.url_encode(text)
  return (tostring(text):gsub("[^%w%-%._~ ]", function(c) return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
end
function M.http.url_decode(text)
  return (tostring(text):gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.http.http_get = function(url) return http_call("GET", url) end
M.http.post_json = function(url, value) return http_call("POST", url, { json = value }) end

-- goroutine -----------------------------------------------------------------------------------
M.goroutine = {}
local go = M.goroutine

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
  return sched.spawn(fn, { name = "goroutine" }, ...)
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

local pools = {}
function go.pool_create(name, opts)
  if pools[name] then return nil, "pool '" .. tostring(name) .. "' exists" end
  pools[name] = { workers = math.max(1, tonumber((opts or {}).workers) or 4), queue = {}, active = {},
                  completed = 0, failed = 0, closed = false, results = {} }
  return true
end
local function pool_pump(pool)
  while #pool.queue > 0 and #pool.active < pool.workers do
    local job = table.remove(pool.queue, 1)
    local handle = sched.spawn(job.fn, { name = "pool job" }, table.unpack(job.args, 1, job.args.n))
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

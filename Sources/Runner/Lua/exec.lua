-- exec, os.execute and io.popen: every command runs in its own process group and yields until it ends.
local S, util, sched, ctx, modules = ...
local M = {}
local task_name, workdir = modules.task_name, modules.workdir

M.exec = {}

local function exec_spec(command, opts)
  opts = opts or {}
  local spec = { env = opts.env, user = opts.user or ctx.task_users[task_name() or ""], stdin = opts.stdin,
                 workdir = opts.workdir or opts.cwd or workdir(),
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
-- Older workflows use the result as its stdout: `r .. "x"`, `tostring(r)`, `#r`, `r:match(p)`.
local Result = {
  __tostring = function(self) return rawget(self, "stdout") or "" end,
  __len = function(self) return #(rawget(self, "stdout") or "") end,
  __concat = function(a, b)
    local function text(v) return type(v) == "table" and (rawget(v, "stdout") or "") or v end
    return text(a) .. text(b)
  end,
  __index = function(self, key)
    local method = string[key]
    if method then return function(result, ...) return method(rawget(result, "stdout") or "", ...) end end
  end,
}

function M.exec.run(command, opts)
  if command == nil then error("exec.run expects a command", 2) end
  return setmetatable(sched.await_op(S.exec_start(exec_spec(command, opts))), Result)
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

return M

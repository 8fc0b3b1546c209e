-- What the modules that drive a command-line tool share (pkg, user, systemd, git, docker, terraform, ...):
-- argv built from option tables, run as exec runs commands (yielding, in its own process group, in the
-- run's log), failures as `nil, "tool sub: why (exit N)", result`.
local S, util, sched, ctx, modules, part = ...
local builtin = modules.builtin
local M = { fs = builtin.fs, data = builtin.data, log = builtin.log }

local function exec() return part("exec").exec end

function M.trim(text) return (tostring(text or ""):gsub("^%s+", ""):gsub("%s+$", "")) end

-- A string, a list or nil as a list.
function M.list(value)
  if value == nil then return {} end
  if type(value) == "table" then return value end
  return { value }
end

function M.lines(text)
  local lines = {}
  for line in tostring(text or ""):gmatch("[^\n]+") do
    local trimmed = M.trim(line)
    if trimmed ~= "" then lines[#lines + 1] = trimmed end
  end
  return lines
end

-- Argument errors are the caller's mistake: raised, at the caller's line.
function M.want(value, kind, what, fname)
  if type(value) ~= kind then
    error(fname .. ": " .. what .. " must be a " .. kind .. " (got " .. type(value) .. ")", 3)
  end
  return value
end

-- `~` and `~/x` as the run's HOME.
function M.expand(path)
  path = tostring(path)
  if path == "~" or path:sub(1, 2) == "~/" then
    return (modules.env.get("HOME") or "") .. path:sub(2)
  end
  return path
end

-- The executable `name` on the run's PATH (env.set("PATH", ...) included), or nil.
function M.which(name)
  if name:find("/", 1, true) then return M.fs.is_file(name) and name or nil end
  for dir in (modules.env.get("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
    local candidate = dir .. "/" .. name
    if M.fs.is_file(candidate) then return candidate end
  end
end

function M.first_tool(names)
  for _, name in ipairs(names) do
    if M.which(name) then return name end
  end
end

-- The tool's result whatever its exit status: {success, stdout, stderr, exit_code}.
function M.run(argv, opts)
  return exec().run(argv, opts)
end

local function tail(text, limit)
  text = M.trim(text)
  if #text > limit then return "..." .. text:sub(-limit) end
  return text
end

function M.failure(argv, result)
  local why = tail(result.stderr ~= "" and result.stderr or result.stdout, 2000)
  if why == "" then why = result.error or "failed" end
  local name = argv[1] .. ((argv[2] and not argv[2]:find("^%-")) and (" " .. argv[2]) or "")
  return name .. ": " .. why .. " (exit " .. tostring(result.exit_code) .. ")"
end

-- result, or nil, "why", result when the tool fails.
function M.call(argv, opts)
  local result = M.run(argv, opts)
  if result.exit_code == 0 then return result end
  return nil, M.failure(argv, result), result
end

-- The tool's stdout as JSON (an empty answer is {}), or nil, "why", result.
function M.json_call(argv, opts)
  local result, err, failed = M.call(argv, opts)
  if not result then return nil, err, failed end
  local text = M.trim(result.stdout)
  if text == "" then return {}, nil, result end
  local ok, decoded = pcall(M.data.json_parse, text)
  if not ok or decoded == nil then
    return nil, argv[1] .. ": cannot read its JSON answer: " .. tail(text, 200), result
  end
  return decoded, nil, result
end

-- Appends the flags `opts` asks for, in `spec`'s order: each row is {key, flag, kind} where kind is
-- "value" (--flag v), "bool" (--flag when true), "each" (--flag v per item), "csv" (--flag a,b),
-- "pairs" (--flag k=v per entry, sorted) or "joined" (--flag=v).
function M.flags(argv, opts, spec)
  for _, row in ipairs(spec) do
    local key, flag, kind = row[1], row[2], row[3] or "value"
    local value = opts[key]
    if value ~= nil and value ~= false then
      if kind == "bool" then
        argv[#argv + 1] = flag
      elseif kind == "each" then
        for _, item in ipairs(M.list(value)) do argv[#argv + 1] = flag; argv[#argv + 1] = tostring(item) end
      elseif kind == "csv" then
        local items = {}
        for _, item in ipairs(M.list(value)) do items[#items + 1] = tostring(item) end
        argv[#argv + 1] = flag; argv[#argv + 1] = table.concat(items, ",")
      elseif kind == "pairs" then
        local keys = {}
        for k in pairs(value) do keys[#keys + 1] = tostring(k) end
        table.sort(keys)
        for _, k in ipairs(keys) do argv[#argv + 1] = flag; argv[#argv + 1] = k .. "=" .. tostring(value[k]) end
      elseif kind == "joined" then
        argv[#argv + 1] = flag .. "=" .. tostring(value)
      else
        argv[#argv + 1] = flag; argv[#argv + 1] = tostring(value)
      end
    end
  end
  return argv
end

function M.append(argv, items)
  for _, item in ipairs(items or {}) do argv[#argv + 1] = tostring(item) end
  return argv
end

-- A module table whose unknown functions fail with a clear message instead of "attempt to call a nil value".
-- `fname(...)` run on an agent (a name, a list or {tags = ...}, as delegate_to takes them), as a
-- one-task workflow delegated to it: its first result there, or nil and why. Arguments and the
-- result cross as JSON; `fname` is one of ours, never the caller's text.
function M.on_agent(target, fname, ...)
  local source = string.format([[
task("call"):command(function()
  local value, err = %s(table.unpack(json.decode(%q)))
  if value == nil then return false, err end
  return true, "ok", { value = value }
end):build()
]], fname, M.data.json_encode({ ... }))
  local result = sched.await_op(S.delegate_start({ target = target, task = "call", source = source, params = {}, deps = {} }))
  if not result.success then
    local where = type(target) == "table" and "its agents" or tostring(target)
    return nil, fname .. " on " .. where .. ": " .. tostring(result.error)
  end
  return (result.output or {}).value
end

-- Whether a delegate_to names another host ("local" and "localhost" are this one).
function M.remote(target) return target ~= nil and target ~= "local" and target ~= "localhost" end

function M.module(name, functions)
  return setmetatable(functions, { __index = function(_, key)
    error(name .. "." .. tostring(key) .. " is not a function of the " .. name .. " module (see docs/modules.md)", 2)
  end })
end

return M

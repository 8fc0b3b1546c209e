-- infra_test: Testinfra-style assertions on this host. A failed check raises an error naming the check,
-- which fails the task; a passed check returns true.
local M = {}

local function check(ok, name, message)
  if not ok then error("infra_test." .. name .. ": " .. message, 3) end
  return true
end

local function local_only(name, host)
  if host ~= nil then error("infra_test." .. name .. ": checking another host needs an agent (delegate the task instead)", 3) end
end

local function sh(command)
  return exec.run(command)
end

local function quote(text)
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

function M.file_exists(path, host)
  local_only("file_exists", host)
  return check(fs.exists(path), "file_exists", path .. " does not exist")
end

function M.is_directory(path, host)
  local_only("is_directory", host)
  return check(fs.is_dir(path), "is_directory", path .. " is not a directory")
end

function M.is_file(path, host)
  local_only("is_file", host)
  return check(fs.is_file(path), "is_file", path .. " is not a regular file")
end

function M.file_contains(path, text, host)
  local_only("file_contains", host)
  local content = fs.read(path)
  check(content ~= nil, "file_contains", "cannot read " .. path)
  return check(content:find(text, 1, true) ~= nil, "file_contains", path .. " does not contain \"" .. text .. "\"")
end

function M.file_mode(path, mode, host)
  local_only("file_mode", host)
  local info = fs.stat(path)
  check(info ~= nil, "file_mode", path .. " does not exist")
  local want = string.format("%04o", tonumber(tostring(mode), 8))
  return check(info.mode == want, "file_mode", path .. " has mode " .. info.mode .. ", expected " .. want)
end

function M.file_owner(path, owner, host)
  local_only("file_owner", host)
  local result = sh("stat -c %U " .. quote(path))
  local actual = (result.stdout or ""):gsub("%s+$", "")
  return check(result.success and actual == owner, "file_owner", path .. " is owned by " .. actual .. ", expected " .. owner)
end

function M.command_succeeds(command, host)
  local_only("command_succeeds", host)
  local result = sh(command)
  return check(result.success, "command_succeeds", "\"" .. command .. "\" exited " .. tostring(result.exit_code))
end

function M.command_fails(command, host)
  local_only("command_fails", host)
  return check(not sh(command).success, "command_fails", "\"" .. command .. "\" succeeded")
end

function M.command_stdout_contains(command, text, host)
  local_only("command_stdout_contains", host)
  local result = sh(command)
  return check((result.stdout or ""):find(text, 1, true) ~= nil, "command_stdout_contains",
    "the output of \"" .. command .. "\" does not contain \"" .. text .. "\"")
end

function M.command_stderr_contains(command, text, host)
  local_only("command_stderr_contains", host)
  local result = sh(command)
  return check((result.stderr or ""):find(text, 1, true) ~= nil, "command_stderr_contains",
    "the errors of \"" .. command .. "\" do not contain \"" .. text .. "\"")
end

function M.service_is_running(name, host)
  local_only("service_is_running", host)
  return check(sh("systemctl is-active --quiet " .. quote(name)).success, "service_is_running", name .. " is not running")
end

function M.service_is_enabled(name, host)
  local_only("service_is_enabled", host)
  return check(sh("systemctl is-enabled --quiet " .. quote(name)).success, "service_is_enabled", name .. " is not enabled")
end

-- Listening TCP sockets, read from /proc/net/tcp and tcp6 (state 0A).
local function listening(port)
  for _, table_file in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    for line in (fs.read(table_file) or ""):gmatch("[^\n]+") do
      local local_port, state = line:match("^%s*%d+: %x+:(%x+) %x+:%x+ (%x+)")
      if local_port and tonumber(local_port, 16) == tonumber(port) and state == "0A" then return true end
    end
  end
  return false
end

function M.port_is_listening(port, host)
  local_only("port_is_listening", host)
  return check(listening(port), "port_is_listening", "nothing listens on TCP port " .. tostring(port))
end
M.port_is_tcp = M.port_is_listening

function M.process_is_running(name, host)
  local_only("process_is_running", host)
  return check(sh("pgrep -x " .. quote(name)).success, "process_is_running", "no process named " .. name)
end

function M.process_count(name, count, host)
  local_only("process_count", host)
  local result = sh("pgrep -xc " .. quote(name))
  local actual = tonumber((result.stdout or ""):match("%d+")) or 0
  return check(actual == count, "process_count", string.format("%d processes named %s, expected %d", actual, name, count))
end

function M.can_connect(target, port)
  local result = exec.run({ "bash", "-c", "exec 3<>/dev/tcp/" .. target .. "/" .. tostring(port) }, { timeout = 5 })
  return check(result.success, "can_connect", "cannot connect to " .. target .. ":" .. tostring(port))
end

function M.ping(target, count, host)
  local_only("ping", host)
  return check(sh("ping -c " .. tonumber(count or 1) .. " -W 2 " .. quote(target)).success, "ping", target .. " does not answer")
end

return M

-- The host's own tools: pkg, user/group, systemd, ssh, stow, python, salt, facts, and the other
-- reference's `system` module. Every call is an argv list (no shell), yields like exec, and reports `changed`.
local S, util, sched, ctx, modules, part = ...
local cli = part("cli")
local fs = cli.fs

local function names(value, fname)
  local list = cli.list(value)
  for _, name in ipairs(list) do cli.want(name, "string", "a name", fname) end
  return list
end

-- pkg -------------------------------------------------------------------------------------------
-- One row per manager: the argv of each operation and how to read its answers.
local apt_env = { DEBIAN_FRONTEND = "noninteractive" }
local managers = {
  { tool = "apt-get", env = apt_env,
    install = { "apt-get", "install", "-y" }, remove = { "apt-get", "remove", "-y" }, purge = { "apt-get", "purge", "-y" },
    update = { "apt-get", "update" }, upgrade_all = { "apt-get", "upgrade", "-y" }, upgrade = { "apt-get", "install", "--only-upgrade", "-y" },
    search = { "apt-cache", "search" }, search_line = "^(%S+) %- (.*)$",
    list = { "dpkg-query", "-W", "-f", "${Package}\t${Version}\n" },
    version = function(name) return { "dpkg-query", "-W", "-f", "${Status}\t${Version}", name } end,
    installed = function(stdout) return stdout:find("install ok installed", 1, true) and stdout:match("\t(.*)$") end },
  { tool = "dnf", install = { "dnf", "install", "-y" }, remove = { "dnf", "remove", "-y" }, update = { "dnf", "makecache" },
    upgrade_all = { "dnf", "upgrade", "-y" }, upgrade = { "dnf", "upgrade", "-y" }, search = { "dnf", "search", "-q" },
    search_line = "^(%S+)%.%S+ : (.*)$", list = { "rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n" },
    version = function(name) return { "rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", name } end },
  { tool = "yum", install = { "yum", "install", "-y" }, remove = { "yum", "remove", "-y" }, update = { "yum", "makecache" },
    upgrade_all = { "yum", "update", "-y" }, upgrade = { "yum", "update", "-y" }, search = { "yum", "search", "-q" },
    search_line = "^(%S+)%.%S+ : (.*)$", list = { "rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n" },
    version = function(name) return { "rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", name } end },
  { tool = "pacman", install = { "pacman", "-S", "--noconfirm", "--needed" }, remove = { "pacman", "-R", "--noconfirm" },
    purge = { "pacman", "-Rns", "--noconfirm" }, update = { "pacman", "-Sy" }, upgrade_all = { "pacman", "-Syu", "--noconfirm" },
    upgrade = { "pacman", "-S", "--noconfirm" }, search = { "pacman", "-Ss" }, search_line = "^%S+/(%S+) %S+.-$",
    list = { "pacman", "-Q" }, version = function(name) return { "pacman", "-Q", name } end,
    installed = function(stdout) return stdout:match("^%S+%s+(%S+)") end },
  { tool = "apk", install = { "apk", "add" }, remove = { "apk", "del" }, update = { "apk", "update" },
    upgrade_all = { "apk", "upgrade" }, upgrade = { "apk", "upgrade" }, search = { "apk", "search", "-v" },
    search_line = "^(%S+) %- (.*)$", list = { "apk", "info", "-v" },
    version = function(name) return { "apk", "info", "-e", "-v", name } end,
    installed = function(stdout) return stdout:match("%-(%d[^%s]*%-r%d+)") or cli.trim(stdout) end },
  { tool = "brew", install = { "brew", "install" }, remove = { "brew", "uninstall" }, update = { "brew", "update" },
    upgrade_all = { "brew", "upgrade" }, upgrade = { "brew", "upgrade" }, search = { "brew", "search" }, search_line = "^(%S+)()$",
    list = { "brew", "list", "--versions" }, version = function(name) return { "brew", "list", "--versions", name } end,
    installed = function(stdout) return stdout:match("^%S+%s+(%S+)") end },
}

local function manager(opts)
  local wanted = opts and opts.manager
  for _, row in ipairs(managers) do
    if (wanted == nil and cli.which(row.tool)) or row.tool == wanted or (wanted == "apt" and row.tool == "apt-get") then return row end
  end
  if wanted then return nil, "pkg: unknown package manager '" .. tostring(wanted) .. "'" end
  return nil, "pkg: no package manager found (looked for apt-get, dnf, yum, pacman, apk, brew)"
end

local function pkg_call(row, argv, extra)
  return cli.call(cli.append(cli.append({}, argv), extra), { env = row.env })
end

local pkg = {}

-- -> {name, installed, version}
function pkg.info(name, opts)
  local row, err = manager(opts)
  if not row then return nil, err end
  cli.want(name, "string", "the package", "pkg.info")
  local result = cli.run(row.version(name), { env = row.env })
  local version = result.exit_code == 0 and (row.installed and row.installed(result.stdout) or cli.trim(result.stdout)) or nil
  if version == "" then version = nil end
  return { name = name, installed = version ~= nil, version = version }
end

function pkg.is_installed(name, opts)
  local info = pkg.info(name, opts)
  return info ~= nil and info.installed
end

-- Installs what is missing (state = "latest" also upgrades what is there); "name=1.2" pins on apt.
function pkg.install(packages, opts)
  opts = opts or {}
  local row, err = manager(opts)
  if not row then return nil, err end
  local wanted = names(packages, "pkg.install")
  if opts.update_cache then
    local ok, update_err = pkg_call(row, row.update)
    if not ok then return nil, update_err end
  end
  local missing = {}
  for _, name in ipairs(wanted) do
    if opts.state == "latest" or not pkg.is_installed(name:match("^[^=]+"), opts) then missing[#missing + 1] = name end
  end
  if #missing == 0 then return { changed = false, packages = {} } end
  local result, install_err, failed = pkg_call(row, row.install, missing)
  if not result then return nil, install_err, failed end
  return { changed = true, packages = missing, stdout = result.stdout }
end

function pkg.remove(packages, opts)
  opts = opts or {}
  local row, err = manager(opts)
  if not row then return nil, err end
  local present = {}
  for _, name in ipairs(names(packages, "pkg.remove")) do
    if pkg.is_installed(name, opts) then present[#present + 1] = name end
  end
  if #present == 0 then return { changed = false, packages = {} } end
  local result, remove_err, failed = pkg_call(row, opts.purge and row.purge or row.remove, present)
  if not result then return nil, remove_err, failed end
  return { changed = true, packages = present }
end
pkg.uninstall = pkg.remove

function pkg.update(opts)
  local row, err = manager(opts)
  if not row then return nil, err end
  local result, update_err, failed = pkg_call(row, row.update)
  if not result then return nil, update_err, failed end
  return { changed = true }
end

function pkg.upgrade(packages, opts)
  if type(packages) == "table" and packages[1] == nil then packages, opts = nil, packages end
  local row, err = manager(opts)
  if not row then return nil, err end
  local list = names(packages, "pkg.upgrade")
  local result, upgrade_err, failed = pkg_call(row, #list > 0 and row.upgrade or row.upgrade_all, list)
  if not result then return nil, upgrade_err, failed end
  return { changed = true, packages = list, stdout = result.stdout }
end

-- -> list of {name, description}
function pkg.search(term, opts)
  local row, err = manager(opts)
  if not row then return nil, err end
  local result, search_err = pkg_call(row, row.search, { cli.want(term, "string", "the search term", "pkg.search") })
  if not result then return nil, search_err end
  local found = {}
  for _, line in ipairs(cli.lines(result.stdout)) do
    local name, description = line:match(row.search_line)
    if name then found[#found + 1] = { name = name, description = type(description) == "string" and description or "" } end
  end
  return found
end

-- -> list of {name, version}
function pkg.list(opts)
  local row, err = manager(opts)
  if not row then return nil, err end
  local result, list_err = pkg_call(row, row.list)
  if not result then return nil, list_err end
  local installed = {}
  for _, line in ipairs(cli.lines(result.stdout)) do
    local name, version = line:match("^(%S+)%s+(%S+)")
    if row.tool == "apk" then name, version = line:match("^(.-)%-(%d[^%s]*%-r%d+)$") end
    if name then installed[#installed + 1] = { name = name, version = version } end
  end
  return installed
end

-- user and group ------------------------------------------------------------------------------------
local function getent(database, name)
  local result = cli.run({ "getent", database, tostring(name) })
  if result.exit_code ~= 0 then return nil end
  local fields = {}
  for field in (cli.trim(result.stdout) .. ":"):gmatch("([^:]*):") do fields[#fields + 1] = field end
  return fields
end

local function changed_by(argv, opts)
  local result, err, failed = cli.call(argv, opts)
  if not result then return nil, err, failed end
  return { changed = true }
end

local user, group = {}, {}

function user.exists(name) return getent("passwd", cli.want(name, "string", "the user", "user.exists")) ~= nil end

function user.get_groups(name)
  local result, err = cli.call({ "id", "-nG", cli.want(name, "string", "the user", "user.get_groups") })
  if not result then return nil, err end
  local list = {}
  for item in result.stdout:gmatch("%S+") do list[#list + 1] = item end
  return list
end

-- -> {name, uid, gid, comment, home, shell, groups}
function user.info(name)
  local fields = getent("passwd", cli.want(name, "string", "the user", "user.info"))
  if not fields then return nil, "user.info: no user named '" .. name .. "'" end
  return { name = fields[1], uid = tonumber(fields[3]), gid = tonumber(fields[4]), comment = fields[5], home = fields[6],
           shell = fields[7], groups = user.get_groups(name) or {} }
end

function user.list()
  local result, err = cli.call({ "getent", "passwd" })
  if not result then return nil, err end
  local list = {}
  for _, line in ipairs(cli.lines(result.stdout)) do list[#list + 1] = line:match("^([^:]+)") end
  return list
end

local user_flags = {
  { "uid", "--uid" }, { "gid", "--gid" }, { "groups", "--groups", "csv" }, { "shell", "--shell" }, { "home", "--home-dir" },
  { "comment", "--comment" }, { "expire", "--expiredate" },
}

function user.set_password(name, password)
  cli.want(password, "string", "the password", "user.set_password")
  cli.want(name, "string", "the user", "user.set_password")
  -- One name:password line: a colon in the name or a line break anywhere would set another user's.
  if name:find("[:\r\n]") or password:find("[\r\n]") then return nil, "user.set_password: the name has ':' or a line break, or the password a line break" end
  -- chpasswd reads name:password on stdin, so the password is never in any process's argv.
  return changed_by({ "chpasswd" }, { stdin = cli.want(name, "string", "the user", "user.set_password") .. ":" .. password .. "\n" })
end

function user.create(name, opts)
  opts = opts or {}
  if user.exists(name) then return { changed = false } end
  local argv = cli.flags({ "useradd" }, opts, user_flags)
  cli.flags(argv, opts, { { "system", "--system", "bool" } })
  if opts.create_home == false then argv[#argv + 1] = "--no-create-home" elseif opts.create_home then argv[#argv + 1] = "--create-home" end
  argv[#argv + 1] = name
  local result, err, failed = changed_by(argv)
  if not result then return nil, err, failed end
  if opts.password then
    local ok, password_err = user.set_password(name, opts.password)
    if not ok then return nil, password_err end
  end
  return result
end

function user.remove(name, opts)
  opts = opts or {}
  if not user.exists(name) then return { changed = false } end
  local argv = { "userdel" }
  if opts.remove_home or opts.remove then argv[#argv + 1] = "--remove" end
  argv[#argv + 1] = name
  return changed_by(argv)
end
user.delete = user.remove

function user.modify(name, opts)
  opts = opts or {}
  if not user.exists(name) then return nil, "user.modify: no user named '" .. tostring(name) .. "'" end
  local argv = cli.flags({ "usermod" }, opts, user_flags)
  cli.flags(argv, opts, { { "append", "--append", "bool" }, { "lock", "--lock", "bool" }, { "unlock", "--unlock", "bool" } })
  if #argv == 1 then return { changed = false } end
  argv[#argv + 1] = name
  return changed_by(argv)
end

function user.add_to_group(name, group_name)
  local groups = user.get_groups(name) or {}
  for _, existing in ipairs(groups) do if existing == group_name then return { changed = false } end end
  return changed_by({ "usermod", "--append", "--groups", cli.want(group_name, "string", "the group", "user.add_to_group"), name })
end

function user.remove_from_group(name, group_name)
  local member = false
  for _, existing in ipairs(user.get_groups(name) or {}) do member = member or existing == group_name end
  if not member then return { changed = false } end
  return changed_by({ "gpasswd", "--delete", name, group_name })
end

function group.exists(name) return getent("group", cli.want(name, "string", "the group", "group.exists")) ~= nil end

function group.create(name, opts)
  opts = opts or {}
  if group.exists(name) then return { changed = false } end
  local argv = cli.flags({ "groupadd" }, opts, { { "gid", "--gid" }, { "system", "--system", "bool" } })
  argv[#argv + 1] = name
  return changed_by(argv)
end

function group.delete(name)
  if not group.exists(name) then return { changed = false } end
  return changed_by({ "groupdel", name })
end
group.remove = group.delete
user.group_create, user.group_delete, user.group_exists = group.create, group.delete, group.exists

-- systemd ----------------------------------------------------------------------------------------
local systemd = {}

local function systemctl(opts, args)
  local argv = { "systemctl" }
  if opts and opts.user then argv[#argv + 1] = "--user" end
  return cli.append(argv, args)
end

local function unit_name(name, fname) return cli.want(name, "string", "the unit", "systemd." .. fname) end

-- -> {name, active, enabled, state, sub_state, description, pid}
function systemd.status(name, opts)
  local result, err = cli.call(systemctl(opts, { "show", unit_name(name, "status"),
    "--property=ActiveState,SubState,UnitFileState,Description,MainPID" }))
  if not result then return nil, err end
  local props = {}
  for _, line in ipairs(cli.lines(result.stdout)) do
    local key, value = line:match("^([^=]+)=(.*)$")
    if key then props[key] = value end
  end
  return { name = name, active = props.ActiveState == "active", enabled = props.UnitFileState == "enabled",
           state = props.ActiveState, sub_state = props.SubState, unit_file_state = props.UnitFileState,
           description = props.Description, pid = tonumber(props.MainPID) }
end

function systemd.is_active(name, opts) return cli.run(systemctl(opts, { "is-active", "--quiet", unit_name(name, "is_active") })).exit_code == 0 end
function systemd.is_enabled(name, opts) return cli.run(systemctl(opts, { "is-enabled", "--quiet", unit_name(name, "is_enabled") })).exit_code == 0 end

-- Each action runs only when it would change something (restart and reload always do).
local actions = {
  start = function(name, opts) return not systemd.is_active(name, opts) end,
  stop = function(name, opts) return systemd.is_active(name, opts) end,
  enable = function(name, opts) return not systemd.is_enabled(name, opts) end,
  disable = function(name, opts) return systemd.is_enabled(name, opts) end,
  restart = function() return true end, reload = function() return true end,
  mask = function() return true end, unmask = function() return true end,
}
for action, needed in pairs(actions) do
  systemd[action] = function(name, opts)
    unit_name(name, action)
    if not needed(name, opts) then return { changed = false } end
    return changed_by(systemctl(opts, { action, name }))
  end
  systemd["service_" .. action] = systemd[action]
end
systemd.service_status = systemd.status

function systemd.daemon_reload(opts) return changed_by(systemctl(opts, { "daemon-reload" })) end
systemd.unit_reload = systemd.daemon_reload

local function unit_text(name, opts)
  local lines = { "[Unit]", "Description=" .. (opts.description or name) }
  for _, after in ipairs(cli.list(opts.after)) do lines[#lines + 1] = "After=" .. after end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "[Service]"
  lines[#lines + 1] = "Type=" .. (opts.type or "simple")
  lines[#lines + 1] = "ExecStart=" .. cli.want(opts.exec_start, "string", "exec_start", "systemd.create_service")
  for _, key in ipairs({ { "user", "User" }, { "group", "Group" }, { "working_directory", "WorkingDirectory" }, { "restart", "Restart" } }) do
    if opts[key[1]] then lines[#lines + 1] = key[2] .. "=" .. tostring(opts[key[1]]) end
  end
  local keys = {}
  for key in pairs(opts.environment or {}) do keys[#keys + 1] = key end
  table.sort(keys)
  for _, key in ipairs(keys) do lines[#lines + 1] = 'Environment="' .. key .. "=" .. tostring(opts.environment[key]) .. '"' end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "[Install]"
  lines[#lines + 1] = "WantedBy=" .. (opts.wanted_by or "multi-user.target")
  return table.concat(lines, "\n") .. "\n"
end

-- Writes <dir>/<name>.service only when its text changes, then reloads systemd.
function systemd.create_service(name, opts)
  cli.want(opts, "table", "the options", "systemd.create_service")
  local path = (opts.dir or "/etc/systemd/system") .. "/" .. unit_name(name, "create_service"):gsub("%.service$", "") .. ".service"
  local text = unit_text(name, opts)
  if fs.exists(path) and fs.read(path) == text then return { changed = false, path = path } end
  local ok, err = fs.write(path, text)
  if not ok then return nil, err end
  local reloaded, reload_err = systemd.daemon_reload(opts)
  if not reloaded then return nil, reload_err end
  return { changed = true, path = path }
end

function systemd.remove_service(name, opts)
  opts = opts or {}
  local path = (opts.dir or "/etc/systemd/system") .. "/" .. unit_name(name, "remove_service"):gsub("%.service$", "") .. ".service"
  if not fs.exists(path) then return { changed = false, path = path } end
  systemd.stop(name, opts)
  systemd.disable(name, opts)
  fs.rm(path)
  systemd.daemon_reload(opts)
  return { changed = true, path = path }
end

-- -> list of {unit, load, active, sub, description}
function systemd.list(opts)
  opts = opts or {}
  local argv = systemctl(opts, { "list-units", "--type=" .. (opts.type or "service"), "--all", "--no-legend", "--plain", "--no-pager" })
  if opts.state then argv[#argv + 1] = "--state=" .. opts.state end
  local result, err = cli.call(argv)
  if not result then return nil, err end
  local units = {}
  for _, line in ipairs(cli.lines(result.stdout)) do
    local unit, load, active, sub, description = line:match("^(%S+)%s+(%S+)%s+(%S+)%s+(%S+)%s*(.*)$")
    if unit then units[#units + 1] = { unit = unit, load = load, active = active, sub = sub, description = description } end
  end
  return units
end

function systemd.logs(name, opts)
  opts = opts or {}
  local argv = { "journalctl", "--no-pager", "-u", unit_name(name, "logs"), "-n", tostring(opts.lines or 100) }
  if opts.since then cli.append(argv, { "--since", opts.since }) end
  local result, err = cli.call(argv)
  if not result then return nil, err end
  return result.stdout
end

-- ssh, stow, python, salt --------------------------------------------------------------------------
local ssh = {}

-- target "user@host" or {host, user, port, key}; BatchMode (no prompt can be answered) and
-- accept-new (a new host is remembered, a changed key still refuses) unless options say otherwise.
local function ssh_options(target, opts, port_flag)
  opts = opts or {}
  if type(target) == "table" then
    for key, value in pairs(target) do if opts[key] == nil then opts[key] = value end end
    target = (target.user and (target.user .. "@") or "") .. cli.want(target.host, "string", "host", "ssh")
  else
    cli.want(target, "string", "the target", "ssh")
    if opts.user and not target:find("@", 1, true) then target = opts.user .. "@" .. target end
  end
  local options = { BatchMode = "yes", StrictHostKeyChecking = "accept-new", ConnectTimeout = tostring(opts.timeout or 30) }
  for key, value in pairs(opts.options or {}) do options[key] = tostring(value) end
  local keys = {}
  for key in pairs(options) do keys[#keys + 1] = key end
  table.sort(keys)
  local argv = {}
  for _, key in ipairs(keys) do cli.append(argv, { "-o", key .. "=" .. options[key] }) end
  if opts.port then cli.append(argv, { port_flag, tostring(opts.port) }) end
  if opts.key then cli.append(argv, { "-i", cli.expand(opts.key) }) end
  return target, argv
end

function ssh.exec(target, command, opts)
  local host, argv = ssh_options(target, opts, "-p")
  cli.want(command, "string", "the command", "ssh.exec")
  local result, err, failed = cli.call(cli.append(cli.append({ "ssh" }, argv), { host, "--", command }))
  if not result then return nil, err, failed end
  return result
end
ssh.run = ssh.exec

function ssh.upload(target, local_path, remote_path, opts)
  local host, argv = ssh_options(target, opts, "-P")
  return changed_by(cli.append(cli.append({ "scp" }, argv), { "-r", cli.expand(local_path), host .. ":" .. remote_path }))
end

function ssh.download(target, remote_path, local_path, opts)
  local host, argv = ssh_options(target, opts, "-P")
  return changed_by(cli.append(cli.append({ "scp" }, argv), { "-r", host .. ":" .. remote_path, cli.expand(local_path) }))
end

-- stow.link("~/.dotfiles/vim", "~") is `stow -d ~/.dotfiles -t ~ vim`.
local stow = {}
local function stow_call(mode, package_dir, target, opts)
  local dir = cli.expand(cli.want(package_dir, "string", "the package directory", "stow")):gsub("/+$", "")
  local argv = { "stow", "-d", dir:match("^(.*)/[^/]+$") or ".", "-t", cli.expand(target or "~") }
  if mode then argv[#argv + 1] = mode end
  if opts and opts.verbose then argv[#argv + 1] = "-v" end
  argv[#argv + 1] = dir:match("([^/]+)$")
  return changed_by(argv)
end
function stow.link(package_dir, target, opts) return stow_call(nil, package_dir, target, opts) end
function stow.unlink(package_dir, target, opts) return stow_call("-D", package_dir, target, opts) end
function stow.restow(package_dir, target, opts) return stow_call("-R", package_dir, target, opts) end

local python = {}
local function interpreter(opts)
  if opts.venv then return cli.expand(opts.venv) .. "/bin/python" end
  return opts.python or "python3"
end

function python.run(code, opts)
  opts = opts or {}
  local argv = cli.append({ interpreter(opts), "-" }, opts.args)
  return cli.call(argv, { stdin = cli.want(code, "string", "the code", "python.run"), env = opts.env, workdir = opts.workdir })
end

function python.run_file(path, opts)
  opts = opts or {}
  local argv = cli.append({ interpreter(opts), cli.expand(cli.want(path, "string", "the script", "python.run_file")) }, opts.args)
  return cli.call(argv, { env = opts.env, workdir = opts.workdir })
end

function python.pip_install(packages, opts)
  opts = opts or {}
  local argv = { interpreter(opts), "-m", "pip", "install" }
  if opts.upgrade then argv[#argv + 1] = "--upgrade" end
  cli.append(argv, names(packages, "python.pip_install"))
  return changed_by(argv)
end

function python.venv_create(path, opts)
  opts = opts or {}
  local dir = cli.expand(cli.want(path, "string", "the path", "python.venv_create"))
  if fs.is_file(dir .. "/bin/python") then return { changed = false, path = dir } end
  local result, err, failed = changed_by({ opts.python or "python3", "-m", "venv", dir })
  if not result then return nil, err, failed end
  result.path = dir
  return result
end
python.venv = python.venv_create

-- salt-call --local on this host, or `salt TARGET` through a master; answers decoded from --out=json.
local salt = {}
local function salt_argv(opts)
  if opts.target then return { "salt", opts.target } end
  return { "salt-call", "--local" }
end
function salt.state_apply(state_name, opts)
  opts = opts or {}
  local argv = cli.append(salt_argv(opts), { "state.apply", cli.want(state_name, "string", "the state", "salt.state_apply") })
  if opts.pillar then argv[#argv + 1] = "pillar=" .. cli.data.json_encode(opts.pillar) end
  if opts.test then argv[#argv + 1] = "test=True" end
  argv[#argv + 1] = "--out=json"
  return cli.json_call(argv)
end
function salt.cmd_run(fn, args, opts)
  opts = opts or {}
  local argv = cli.append(salt_argv(opts), { cli.want(fn, "string", "the function", "salt.cmd_run") })
  cli.append(argv, cli.list(args))
  argv[#argv + 1] = "--out=json"
  return cli.json_call(argv)
end

-- system (the other reference): exec and friends over exec, fs and env ---------------------------------
local system = {}
function system.exec(command, args, opts)
  local argv = { cli.want(command, "string", "the command", "system.exec") }
  cli.append(argv, args)
  local result = cli.run(#argv > 1 and argv or command, opts)
  result.output = result.stdout
  return result
end
function system.exec_async(command, args)
  local handle = _G.goroutine.async(function() return system.exec(command, args) end)
  return handle
end
system.getenv, system.setenv, system.unsetenv = modules.env.get, modules.env.set, modules.env.unset
system.read_file, system.write_file, system.exists, system.mkdir, system.remove = fs.read, fs.write, fs.exists, fs.mkdir, fs.rm
system.list_dir, system.chmod, system.copy, system.move, system.stat = fs.ls, fs.chmod, fs.copy, fs.move, fs.stat
-- system.env(name) is one variable's value (the reference's use); system.env() all of them.
function system.env(name)
  if name == nil then return modules.env.list() end
  return modules.env.get(name)
end
function system.rmdir(path) return fs.rm(path, { recursive = true }) end
function system.which(name) return cli.which(cli.want(name, "string", "the program", "system.which")) end
function system.home_dir() return modules.env.get("HOME") end
function system.temp_dir() return modules.env.get("TMPDIR") or "/tmp" end
function system.platform() return "linux" end
function system.arch() return cli.trim(cli.run({ "uname", "-m" }).stdout) end
function system.cpu_count() return modules.builtin.facts.cpu().cores end
function system.memory() return modules.builtin.facts.memory() end
function system.uptime()
  local file = io.open("/proc/uptime")
  if not file then return nil, "system.uptime: /proc/uptime is not readable" end
  local seconds = tonumber(file:read("a"):match("^(%S+)"))
  file:close()
  return seconds
end
function system.processes()
  local result, err = cli.call({ "ps", "-eo", "pid=,comm=" })
  if not result then return nil, err end
  local list = {}
  for _, line in ipairs(cli.lines(result.stdout)) do
    local pid, name = line:match("^(%d+)%s+(.*)$")
    if pid then list[#list + 1] = { pid = tonumber(pid), name = name } end
  end
  return list
end
function system.kill(pid, signal)
  return changed_by({ "kill", "-" .. tostring(signal or "TERM"), tostring(cli.want(pid, "number", "the pid", "system.kill")) })
end
function system.hostname() return cli.trim(cli.run({ "hostname" }).stdout) end
function system.info() return facts.gather() end
function system.pwd() return modules.workdir() end
function system.cd() error("system.cd is not supported: a run's directory is its task's workdir (use :workdir(dir) or exec's cwd)", 2) end

-- facts ------------------------------------------------------------------------------------------
-- What a host is. The two references read it two ways (facts.gather().os.name, .cpu.cores;
-- facts.get_all().platform.os, .memory.used_percent): both shapes are here. With {agent = "web-01"}
-- the agent answers, through a one-task workflow delegated to it: its host as it is now.
local host = modules.builtin.facts

local function gathered()
  local platform = host.platform()
  return {
    hostname = platform.hostname, arch = platform.arch, platform = platform,
    os = { name = platform.os, family = platform.distribution, distribution = platform.distribution,
           version = platform.distribution_version, pretty_name = platform.pretty_name },
    kernel = { name = "Linux", version = platform.kernel },
    cpu = host.cpu(), memory = host.memory(), disk = host.disks(), network = host.network(), uptime = host.uptime(),
  }
end

local function service(name)
  local status, err = systemd.status(name)
  if not status then return nil, err end
  status.status = status.state
  return status
end

-- part -> (reader, whether it takes a name)
local fact_parts = {
  all = { gathered }, platform = { host.platform }, memory = { host.memory }, cpu = { host.cpu }, disk = { host.disks },
  network = { host.network }, uptime = { host.uptime }, package = { pkg.info, true }, service = { service, true },
}

local facts = {}
for part_name, row in pairs(fact_parts) do
  local reader, takes_name = row[1], row[2]
  facts["get_" .. part_name] = function(spec)
    local opts = type(spec) == "table" and spec or {}
    local name = takes_name and cli.want(opts.name or (type(spec) == "string" and spec or nil), "string", "the name", "facts.get_" .. part_name) or nil
    if opts.agent ~= nil then return cli.on_agent(opts.agent, "facts.get_" .. part_name, name and { name = name } or nil) end
    return reader(name)
  end
end
facts.gather = facts.get_all
for _, short in ipairs({ "platform", "memory", "cpu", "disk", "network", "uptime" }) do facts[short] = facts["get_" .. short] end

return {
  facts = cli.module("facts", facts),
  pkg = cli.module("pkg", pkg), user = cli.module("user", user), group = cli.module("group", group),
  systemd = cli.module("systemd", systemd), ssh = cli.module("ssh", ssh), stow = cli.module("stow", stow),
  python = cli.module("python", python), salt = cli.module("salt", salt), system = cli.module("system", system),
}

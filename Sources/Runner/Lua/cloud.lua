-- docker, incus, terraform, pulumi and the cloud CLIs (aws, az, gcloud, doctl): argv built from option
-- tables, never a shell string from user values; failures as `nil, "tool sub: why (exit N)", result`.
local S, util, sched, ctx, modules, part = ...
local cli = part("cli")

-- A number as the CLI wants it: 443, not 443.0 (JSON numbers arrive as floats).
local function str(value)
  if math.type(value) == "float" and value == math.floor(value) then return string.format("%d", value) end
  return tostring(value)
end

local function missing(tool) return nil, tool .. ": not found on PATH" end

-- tool ARGS -> result (or decoded JSON with `json`), or nil, "why", result.
local function runner(tool)
  local function call(args, opts)
    if not cli.which(tool) then return missing(tool) end
    return cli.call(cli.append({ tool }, args), opts)
  end
  local function json(args, opts)
    if not cli.which(tool) then return missing(tool) end
    return cli.json_call(cli.append({ tool }, args), opts)
  end
  -- The result whatever the exit status (for tools whose exit code is an answer).
  local function run(args, opts)
    if not cli.which(tool) then return missing(tool) end
    return cli.run(cli.append({ tool }, args), opts)
  end
  local function raw(args, opts)
    cli.want(args, "table", "args", tool .. ".cli")
    return call(args, opts)
  end
  return call, json, run, raw
end

-- `flag a b c` (one flag, several values: aws's list arguments).
local function multi(argv, flag, values)
  if values == nil then return argv end
  argv[#argv + 1] = flag
  for _, v in ipairs(cli.list(values)) do argv[#argv + 1] = str(v) end
  return argv
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t or {}) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

local function joined(list, sep)
  local items = {}
  for _, v in ipairs(cli.list(list)) do items[#items + 1] = str(v) end
  return table.concat(items, sep or ",")
end

-- A command for inside a container: a list is argv, a string runs under the container's sh (not ours).
local function inner_command(command, fname)
  if type(command) == "table" then return command end
  cli.want(command, "string", "command", fname)
  return { "sh", "-c", command }
end

local function options(opts, fname)
  opts = opts or {}
  cli.want(opts, "table", "options", fname)
  return opts
end

local function json_lines(text)
  local rows = {}
  for _, line in ipairs(cli.lines(text)) do
    local ok, row = pcall(cli.data.json_parse, line)
    if ok and row ~= nil then rows[#rows + 1] = row end
  end
  return rows
end

---------------------------------------------------------------------------------------------------- docker
local docker = {}
local dcall, djson, _, draw = runner("docker")
docker.cli = draw

local function dname(name, fname) return cli.want(name, "string", "name", fname) end

local function simple(verb, fname)
  return function(name)
    local result, err, failed = dcall({ verb, dname(name, fname) })
    if not result then return nil, err, failed end
    return { name = name, changed = true, stdout = result.stdout }
  end
end

function docker.container_run(image, opts)
  cli.want(image, "string", "image", "docker.container_run")
  opts = options(opts, "docker.container_run")
  if opts.name then
    local found = djson({ "inspect", "--type", "container", opts.name })
    if found then
      local started, err, failed = dcall({ "start", opts.name })
      if not started then return nil, err, failed end
      return { id = (found[1] or {}).Id, name = opts.name, changed = false }
    end
  end
  local argv = { "run" }
  if opts.detach ~= false then argv[#argv + 1] = "-d" end
  cli.flags(argv, opts, {
    { "name", "--name" }, { "ports", "-p", "each" }, { "volumes", "-v", "each" }, { "env", "-e", "pairs" },
    { "restart", "--restart" }, { "network", "--network" },
  })
  argv[#argv + 1] = image
  if opts.command ~= nil then cli.append(argv, inner_command(opts.command, "docker.container_run")) end
  local result, err, failed = dcall(argv)
  if not result then return nil, err, failed end
  return { id = cli.trim(result.stdout), name = opts.name, changed = true }
end

docker.container_stop = simple("stop", "docker.container_stop")
docker.container_start = simple("start", "docker.container_start")

function docker.container_remove(name, opts)
  opts = options(opts, "docker.container_remove")
  local argv = cli.flags({ "rm" }, opts, { { "force", "-f", "bool" }, { "volumes", "-v", "bool" } })
  argv[#argv + 1] = dname(name, "docker.container_remove")
  local result, err, failed = dcall(argv)
  if not result then return nil, err, failed end
  return { name = name, changed = true }
end

function docker.container_list(opts)
  opts = options(opts, "docker.container_list")
  local argv = cli.flags({ "ps" }, opts, { { "all", "-a", "bool" } })
  local result, err, failed = dcall(cli.append(argv, { "--format", "{{json .}}" }))
  if not result then return nil, err, failed end
  return json_lines(result.stdout)
end

function docker.container_inspect(name)
  local found, err, failed = djson({ "inspect", "--type", "container", dname(name, "docker.container_inspect") })
  if not found then return nil, err, failed end
  return found[1]
end

function docker.container_logs(name, opts)
  opts = options(opts, "docker.container_logs")
  local argv = cli.flags({ "logs" }, opts, { { "tail", "--tail" } })
  argv[#argv + 1] = dname(name, "docker.container_logs")
  local result, err, failed = dcall(argv)
  if not result then return nil, err, failed end
  return result.stdout .. result.stderr  -- containers log to both streams
end

function docker.container_exec(name, command, opts)
  opts = options(opts, "docker.container_exec")
  local argv = cli.flags({ "exec" }, opts, { { "user", "-u" }, { "workdir", "-w" }, { "env", "-e", "pairs" } })
  argv[#argv + 1] = dname(name, "docker.container_exec")
  return dcall(cli.append(argv, inner_command(command, "docker.container_exec")))
end

-- The registry an image reference names: its first component when it looks like a host.
local function registry_of(image)
  local first, rest = image:match("^([^/]+)/(.+)$")
  if rest and (first:find("[.:]") or first == "localhost") then return first end
end

function docker.image_pull(image, opts)
  cli.want(image, "string", "image", "docker.image_pull")
  opts = options(opts, "docker.image_pull")
  if opts.auth then
    cli.want(opts.auth, "table", "auth", "docker.image_pull")
    -- The password goes on stdin, never argv: argv is visible to every user of the host.
    local argv = { "login", "-u", tostring(opts.auth.username or ""), "--password-stdin", registry_of(image) }
    local ok, err, failed = dcall(argv, { stdin = tostring(opts.auth.password or opts.auth.token or "") })
    if not ok then return nil, err, failed end
  end
  local result, err, failed = dcall({ "pull", image })
  if not result then return nil, err, failed end
  return { image = image, changed = not result.stdout:find("Image is up to date", 1, true) }
end

function docker.image_build(context, opts)
  cli.want(context, "string", "context", "docker.image_build")
  opts = options(opts, "docker.image_build")
  local argv = cli.flags({ "build" }, opts, {
    { "tag", "-t", "each" }, { "dockerfile", "-f" }, { "build_args", "--build-arg", "pairs" }, { "no_cache", "--no-cache", "bool" },
  })
  argv[#argv + 1] = context
  local result, err, failed = dcall(argv)
  if not result then return nil, err, failed end
  return { tag = opts.tag, changed = true, stdout = result.stdout }
end

function docker.image_list()
  local result, err, failed = dcall({ "images", "--format", "{{json .}}" })
  if not result then return nil, err, failed end
  return json_lines(result.stdout)
end

function docker.image_remove(image, opts)
  opts = options(opts, "docker.image_remove")
  local argv = cli.flags({ "rmi" }, opts, { { "force", "-f", "bool" } })
  argv[#argv + 1] = cli.want(image, "string", "image", "docker.image_remove")
  local result, err, failed = dcall(argv)
  if not result then return nil, err, failed end
  return { image = image, changed = true }
end

-- docker KIND create, unless `docker KIND inspect NAME` finds it already.
local function ensure(kind, spec)
  return function(name, opts)
    local fname = "docker." .. kind .. "_create"
    opts = options(opts, fname)
    dname(name, fname)
    if dcall({ kind, "inspect", name }) then return { name = name, changed = false } end
    local argv = cli.flags({ kind, "create" }, opts, spec)
    argv[#argv + 1] = name
    local result, err, failed = dcall(argv)
    if not result then return nil, err, failed end
    return { name = name, id = cli.trim(result.stdout), changed = true }
  end
end

docker.network_create = ensure("network", { { "driver", "--driver" }, { "subnet", "--subnet" }, { "gateway", "--gateway" } })
docker.volume_create = ensure("volume", { { "driver", "--driver" } })

docker.network_remove = function(name)
  local result, err, failed = dcall({ "network", "rm", dname(name, "docker.network_remove") })
  if not result then return nil, err, failed end
  return { name = name, changed = true }
end
docker.volume_remove = function(name)
  local result, err, failed = dcall({ "volume", "rm", dname(name, "docker.volume_remove") })
  if not result then return nil, err, failed end
  return { name = name, changed = true }
end

local function compose(file, opts, fname, tail)
  cli.want(file, "string", "file", fname)
  local argv = cli.flags({ "compose", "-f", file }, opts, { { "project_name", "-p" } })
  local result, err, failed = dcall(cli.append(argv, tail))
  if not result then return nil, err, failed end
  return { changed = true, stdout = result.stdout, stderr = result.stderr }
end

function docker.compose_up(file, opts)
  opts = options(opts, "docker.compose_up")
  local tail = { "up" }
  if opts.detach ~= false then tail[#tail + 1] = "-d" end  -- attached, `up` would never return
  if opts.build then tail[#tail + 1] = "--build" end
  return compose(file, opts, "docker.compose_up", tail)
end

function docker.compose_down(file, opts)
  opts = options(opts, "docker.compose_down")
  return compose(file, opts, "docker.compose_down", opts.volumes and { "down", "-v" } or { "down" })
end

---------------------------------------------------------------------------------------------------- incus
local incus = {}
local icall, ijson, _, iraw = runner("incus")
incus.cli = iraw

-- A call with delegate_to (a host other than this one) runs on that agent: the same function, there,
-- with the rest of its options. `at` is the position of the options among the arguments.
local function delegable(fname, at, fn)
  return function(...)
    local args = table.pack(...)
    local opts = args[at]
    if type(opts) ~= "table" or not cli.remote(opts.delegate_to) then return fn(...) end
    local rest = {}
    for k, v in pairs(opts) do if k ~= "delegate_to" then rest[k] = v end end
    args[at] = rest
    return cli.on_agent(opts.delegate_to, fname, table.unpack(args, 1, args.n))
  end
end

local function device_args(name, dev, spec)
  local argv = { "config", "device", "add", name, dev, tostring(spec.type or "disk") }
  for _, k in ipairs(sorted_keys(spec)) do
    if k ~= "type" then argv[#argv + 1] = k .. "=" .. str(spec[k]) end
  end
  return argv
end

-- Create (and start unless `create_only`) instance `name`; devices are added between the two, since
-- `incus launch` can only override profile devices, not add new ones.
local function create_instance(image, name, opts, create_only)
  if icall({ "info", name }) then return { name = name, changed = false } end
  local devices = opts.devices or {}
  local start_now = not create_only and next(devices) == nil
  local argv = { start_now and "launch" or "create", image, name }
  if opts.type == "virtual-machine" or opts.vm then argv[#argv + 1] = "--vm" end
  for _, p in ipairs(cli.list(opts.profiles or opts.profile)) do cli.append(argv, { "-p", p }) end
  for _, k in ipairs(sorted_keys(opts.config)) do cli.append(argv, { "-c", k .. "=" .. str(opts.config[k]) }) end
  local result, err, failed = icall(argv)
  if not result then return nil, err, failed end
  local order = opts.device_order or sorted_keys(devices)
  for _, dev in ipairs(order) do
    local ok, derr, dfailed = icall(device_args(name, dev, devices[dev]))
    if not ok then return nil, derr, dfailed end
  end
  if not create_only and not start_now then
    local ok, serr, sfailed = icall({ "start", name })
    if not ok then return nil, serr, sfailed end
  end
  return { name = name, changed = true }
end

function incus.launch(image, name, opts)
  cli.want(image, "string", "image", "incus.launch")
  cli.want(name, "string", "name", "incus.launch")
  return create_instance(image, name, options(opts, "incus.launch"), opts and opts.create_only)
end
incus.launch = delegable("incus.launch", 3, incus.launch)

local function exec_argv(name, command, user, cwd)
  local argv = { "exec", name }
  local uid = user == "root" and "0" or (user and tostring(user):match("^%d+$"))
  if uid then cli.append(argv, { "--user", uid }) end
  if cwd then cli.append(argv, { "--cwd", cwd }) end
  argv[#argv + 1] = "--"
  if user and not uid then  -- --user takes a uid: a user name goes through su inside the instance
    return cli.append(argv, { "su", "-s", "/bin/sh", "-c", command, tostring(user) })
  end
  return cli.append(argv, inner_command(command, "incus.exec"))
end

function incus.exec(name, command)
  local spec = type(name) == "table" and name or { instance = name, command = command }
  cli.want(spec.instance, "string", "instance", "incus.exec")
  return icall(exec_argv(spec.instance, spec.command, spec.user, spec.cwd))
end
incus.exec = delegable("incus.exec", 1, incus.exec)

local function path_in(name, path) return name .. (path:sub(1, 1) == "/" and "" or "/") .. path end

function incus.file_push(src, name, dest)
  cli.want(src, "string", "source", "incus.file_push")
  cli.want(dest, "string", "destination", "incus.file_push")
  local result, err, failed = icall({ "file", "push", src, path_in(cli.want(name, "string", "name", "incus.file_push"), dest) })
  if not result then return nil, err, failed end
  return { changed = true }
end

function incus.file_pull(name, src, dest)
  cli.want(src, "string", "source", "incus.file_pull")
  cli.want(dest, "string", "destination", "incus.file_pull")
  local result, err, failed = icall({ "file", "pull", path_in(cli.want(name, "string", "name", "incus.file_pull"), src), dest })
  if not result then return nil, err, failed end
  return { changed = true }
end

local function verb(action, fname)
  return function(name, opts)
    cli.want(name, "string", "name", fname)
    opts = options(opts, fname)
    local argv = { action, name }
    if opts.force and action ~= "start" then argv[#argv + 1] = "--force" end
    local result, err, failed = icall(argv)
    if not result then return nil, err, failed end
    return { name = name, changed = true }
  end
end

for _, action in ipairs({ "start", "stop", "restart", "delete" }) do
  incus[action] = delegable("incus." .. action, 2, verb(action, "incus." .. action))
end

function incus.list() return ijson({ "list", "--format", "json" }) end

-- incus.instance(name):image(x):profile(p):config{..}:device(n, spec):proxy(n, listen, connect):launch()
local Instance = {}
Instance.__index = Instance

function incus.instance(name)
  cli.want(name, "string", "name", "incus.instance")
  return setmetatable({ name = name, profiles = {}, settings = {}, devices = {}, device_order = {} }, Instance)
end

function Instance:image(image) self.image_ref = cli.want(image, "string", "image", "incus.instance:image"); return self end
function Instance:profile(p) self.profiles[#self.profiles + 1] = p; return self end
function Instance:type(t) self.kind = t; return self end
function Instance:delegate_to(target) self.target = target; return self end
function Instance:config(values)
  for k, v in pairs(cli.want(values, "table", "config", "incus.instance:config")) do self.settings[k] = v end
  return self
end
function Instance:device(dev, spec)
  cli.want(spec, "table", "device", "incus.instance:device")
  if not self.devices[dev] then self.device_order[#self.device_order + 1] = dev end
  self.devices[dev] = spec
  return self
end
function Instance:proxy(dev, listen, connect)
  return self:device(dev, { type = "proxy", listen = listen, connect = connect })
end

local function fluent_create(self, create_only)
  if not self.image_ref then return nil, "incus: instance " .. self.name .. " has no :image(...)" end
  return incus.launch(self.image_ref, self.name, {
    type = self.kind, profiles = self.profiles, config = self.settings, devices = self.devices, device_order = self.device_order,
    create_only = create_only, delegate_to = self.target,
  })
end

function Instance:launch() return fluent_create(self, false) end
function Instance:create() return fluent_create(self, true) end
function Instance:exec(command) return incus.exec({ instance = self.name, command = command, delegate_to = self.target }) end
for _, action in ipairs({ "start", "stop", "restart", "delete" }) do
  Instance[action] = function(self, opts)
    local merged = { delegate_to = self.target }
    for k, v in pairs(opts or {}) do merged[k] = v end
    return incus[action](self.name, merged)
  end
end

-- incus.network(name):type(t):config{..}:create() / :delete() / :attach(instance)
local Network = {}
Network.__index = Network

function incus.network(name)
  cli.want(name, "string", "name", "incus.network")
  return setmetatable({ name = name, config_values = {} }, Network)
end

function Network:type(t) self.kind = t; return self end
function Network:delegate_to(target) self.target = target; return self end
function Network:config(values)
  for k, v in pairs(cli.want(values, "table", "config", "incus.network:config")) do self.config_values[k] = v end
  return self
end

local function network_call(name, argv)
  local result, err, failed = icall(argv)
  if not result then return nil, err, failed end
  return { name = name, changed = true }
end

-- incus.network_create(name[, {type, config, delegate_to}]), network_delete(name[, opts]),
-- network_attach(name, instance[, opts]): the fluent network's calls, each delegable.
incus.network_create = delegable("incus.network_create", 2, function(name, opts)
  cli.want(name, "string", "name", "incus.network_create")
  opts = options(opts, "incus.network_create")
  if icall({ "network", "show", name }) then return { name = name, changed = false } end
  local argv = { "network", "create", name }
  if opts.type then cli.append(argv, { "--type", opts.type }) end
  for _, k in ipairs(sorted_keys(opts.config)) do argv[#argv + 1] = k .. "=" .. str(opts.config[k]) end
  return network_call(name, argv)
end)
incus.network_delete = delegable("incus.network_delete", 2, function(name)
  return network_call(name, { "network", "delete", cli.want(name, "string", "name", "incus.network_delete") })
end)
incus.network_attach = delegable("incus.network_attach", 3, function(name, instance)
  cli.want(name, "string", "name", "incus.network_attach")
  return network_call(name, { "network", "attach", name, cli.want(instance, "string", "instance", "incus.network_attach") })
end)

function Network:create() return incus.network_create(self.name, { type = self.kind, config = self.config_values, delegate_to = self.target }) end
function Network:delete() return incus.network_delete(self.name, { delegate_to = self.target }) end
function Network:attach(instance) return incus.network_attach(self.name, instance, { delegate_to = self.target }) end

---------------------------------------------------------------------------------------------------- terraform
local terraform = {}
local tcall, tjson, trun, traw = runner("terraform")
terraform.cli = traw

local function tf_argv(dir, sub, opts, fname, spec)
  cli.want(dir, "string", "dir", fname)
  local argv = cli.flags({ "-chdir=" .. cli.expand(dir), sub }, opts, spec or {})
  return argv
end

local function tf_vars(argv, opts)
  for _, f in ipairs(cli.list(opts.var_file)) do argv[#argv + 1] = "-var-file=" .. f end
  for _, k in ipairs(sorted_keys(opts.vars)) do cli.append(argv, { "-var", k .. "=" .. str(opts.vars[k]) }) end
  return argv
end

local function counts(text, pattern)
  local a, b, c = tostring(text):match(pattern)
  return tonumber(a) or 0, tonumber(b) or 0, tonumber(c) or 0
end

function terraform.init(dir, opts)
  opts = options(opts, "terraform.init")
  local argv = tf_argv(dir, "init", opts, "terraform.init", { { "upgrade", "-upgrade", "bool" } })
  local backend = opts.backend_config
  if type(backend) == "table" then
    for _, k in ipairs(sorted_keys(backend)) do argv[#argv + 1] = "-backend-config=" .. k .. "=" .. str(backend[k]) end
  elseif backend then
    argv[#argv + 1] = "-backend-config=" .. tostring(backend)
  end
  local result, err, failed = tcall(cli.append(argv, { "-input=false", "-no-color" }))
  if not result then return nil, err, failed end
  return { success = true, stdout = result.stdout }
end

function terraform.plan(dir, opts)
  opts = options(opts, "terraform.plan")
  local argv = tf_vars(tf_argv(dir, "plan", opts, "terraform.plan", { { "destroy", "-destroy", "bool" } }), opts)
  if opts.out then argv[#argv + 1] = "-out=" .. opts.out end
  cli.append(argv, { "-detailed-exitcode", "-input=false", "-no-color" })
  local result, err = trun(argv)
  if not result then return nil, err end
  -- -detailed-exitcode: 0 no changes, 2 changes, anything else an error.
  if result.exit_code ~= 0 and result.exit_code ~= 2 then return nil, cli.failure({ "terraform", "plan" }, result), result end
  local add, change, destroy = counts(result.stdout, "Plan: (%d+) to add, (%d+) to change, (%d+) to destroy")
  local changes = add + change + destroy
  if result.exit_code == 2 and changes == 0 then changes = 1 end  -- output-only changes still want an apply
  return { changes = changes, add = add, change = change, destroy = destroy, stdout = result.stdout, plan_file = opts.out }
end

function terraform.apply(dir, opts)
  opts = options(opts, "terraform.apply")
  local argv = tf_argv(dir, "apply", opts, "terraform.apply", { { "auto_approve", "-auto-approve", "bool" } })
  if opts.plan_file then
    argv[#argv + 1] = "-input=false"; argv[#argv + 1] = "-no-color"; argv[#argv + 1] = opts.plan_file  -- vars are in the plan
  else
    cli.append(tf_vars(argv, opts), { "-input=false", "-no-color" })
  end
  local result, err, failed = tcall(argv)
  if not result then return nil, err, failed end
  local add, change, destroy = counts(result.stdout, "Resources: (%d+) added, (%d+) changed, (%d+) destroyed")
  return { changed = add + change + destroy > 0, add = add, change = change, destroy = destroy, stdout = result.stdout }
end

function terraform.destroy(dir, opts)
  opts = options(opts, "terraform.destroy")
  local argv = tf_vars(tf_argv(dir, "destroy", opts, "terraform.destroy", { { "auto_approve", "-auto-approve", "bool" } }), opts)
  local result, err, failed = tcall(cli.append(argv, { "-input=false", "-no-color" }))
  if not result then return nil, err, failed end
  local destroyed = tonumber(result.stdout:match("Resources: (%d+) destroyed")) or 0
  return { changed = destroyed > 0, destroy = destroyed, stdout = result.stdout }
end

-- name -> value (terraform's {sensitive, type, value} rows unwrapped), or the one output's value.
function terraform.output(dir, opts)
  opts = options(opts, "terraform.output")
  local argv = tf_argv(dir, "output", opts, "terraform.output")
  cli.append(argv, { "-json", "-no-color" })  -- output takes no -input
  if opts.name then argv[#argv + 1] = opts.name end
  local decoded, err, failed = tjson(argv)
  if decoded == nil then return nil, err, failed end
  if opts.name then return decoded end
  local values = {}
  for name, row in pairs(decoded) do values[name] = type(row) == "table" and row.value or row end
  return values
end

function terraform.validate(dir)
  local result, err = trun(cli.append(tf_argv(dir, "validate", {}, "terraform.validate"), { "-json", "-no-color" }))
  if not result then return nil, err end
  local ok, decoded = pcall(cli.data.json_parse, cli.trim(result.stdout))
  if not ok or type(decoded) ~= "table" then return nil, cli.failure({ "terraform", "validate" }, result), result end
  return { valid = decoded.valid == true, errors = decoded.error_count or 0, warnings = decoded.warning_count or 0,
           diagnostics = decoded.diagnostics or {} }
end

---------------------------------------------------------------------------------------------------- pulumi
local pulumi = {}
local pcall_, pjson, _, praw = runner("pulumi")
pulumi.cli = praw

local function pulumi_argv(words, opts)
  local argv = cli.append({}, words)
  cli.flags(argv, opts, { { "stack", "--stack" }, { "cwd", "--cwd" } })
  argv[#argv + 1] = "--non-interactive"
  return argv
end

local function pulumi_run(words, opts)
  local result, err, failed = pcall_(pulumi_argv(words, opts))
  if not result then return nil, err, failed end
  return { success = true, stdout = result.stdout }
end

function pulumi.stack_init(name, opts)
  cli.want(name, "string", "name", "pulumi.stack_init")
  opts = options(opts, "pulumi.stack_init")
  local result, err, failed = pcall_(pulumi_argv({ "stack", "init", name }, { cwd = opts.cwd }))
  if result then return { name = name, changed = true } end
  if tostring(err):find("already exists", 1, true) then return { name = name, changed = false } end
  return nil, err, failed
end

function pulumi.stack_select(name, opts)
  cli.want(name, "string", "name", "pulumi.stack_select")
  opts = options(opts, "pulumi.stack_select")
  local words = { "stack", "select", name }
  if opts.create then words[#words + 1] = "--create" end
  return pulumi_run(words, { cwd = opts.cwd })
end

function pulumi.config_set(key, value, opts)
  cli.want(key, "string", "key", "pulumi.config_set")
  opts = options(opts, "pulumi.config_set")
  if opts.secret then  -- a secret goes on stdin: pulumi reads the value there when argv has none
    local result, err, failed = pcall_(cli.append(pulumi_argv({ "config", "set", key }, opts), { "--secret" }), { stdin = str(value) })
    if not result then return nil, err, failed end
    return { key = key, changed = true }
  end
  local result, err, failed = pcall_(pulumi_argv({ "config", "set", key, str(value) }, opts))
  if not result then return nil, err, failed end
  return { key = key, changed = true }
end

function pulumi.config_get(key, opts)
  cli.want(key, "string", "key", "pulumi.config_get")
  local result, err, failed = pcall_(pulumi_argv({ "config", "get", key }, options(opts, "pulumi.config_get")))
  if not result then return nil, err, failed end
  return cli.trim(result.stdout)
end

function pulumi.preview(opts) return pulumi_run({ "preview" }, options(opts, "pulumi.preview")) end

-- Without yes = true nothing changes: up previews, destroy and refresh only show what they would do.
function pulumi.up(opts)
  opts = options(opts, "pulumi.up")
  if opts.yes ~= true then
    local result, err, failed = pulumi.preview(opts)
    if result then result.preview = true end
    return result, err, failed
  end
  return pulumi_run({ "up", "--yes" }, opts)
end

local function guarded(action, fname)
  return function(opts)
    opts = options(opts, fname)
    local result, err, failed = pulumi_run({ action, opts.yes == true and "--yes" or "--preview-only" }, opts)
    if result then result.preview = opts.yes ~= true end
    return result, err, failed
  end
end

pulumi.destroy = guarded("destroy", "pulumi.destroy")
pulumi.refresh = guarded("refresh", "pulumi.refresh")

function pulumi.stack_output(opts)
  opts = options(opts, "pulumi.stack_output")
  local words = { "stack", "output" }
  if opts.name then words[#words + 1] = opts.name end
  return pjson(cli.append(pulumi_argv(words, opts), { "--json" }))
end

---------------------------------------------------------------------------------------------------- aws
local aws = {}
local acall, ajson, _, araw = runner("aws")
aws.cli = araw

local function aws_argv(service, op, opts)
  return cli.flags({ service, op }, opts, { { "region", "--region" }, { "profile", "--profile" } })
end

function aws.ec2_instance_create(opts)
  opts = options(opts, "aws.ec2_instance_create")
  cli.want(opts.image_id, "string", "image_id", "aws.ec2_instance_create")
  local argv = cli.flags(aws_argv("ec2", "run-instances", opts), opts, {
    { "image_id", "--image-id" }, { "instance_type", "--instance-type" }, { "key_name", "--key-name" },
    { "subnet_id", "--subnet-id" }, { "user_data", "--user-data" },
  })
  cli.append(argv, { "--count", str(opts.count or 1) })
  multi(argv, "--security-groups", opts.security_groups)
  multi(argv, "--security-group-ids", opts.security_group_ids)
  if opts.tags then
    local tags = {}
    for _, k in ipairs(sorted_keys(opts.tags)) do tags[#tags + 1] = "{Key=" .. k .. ",Value=" .. str(opts.tags[k]) .. "}" end
    cli.append(argv, { "--tag-specifications", "ResourceType=instance,Tags=[" .. table.concat(tags, ",") .. "]" })
  end
  local decoded, err, failed = ajson(cli.append(argv, { "--output", "json" }))
  if not decoded then return nil, err, failed end
  local instances = decoded.Instances or {}
  return { instance_id = instances[1] and instances[1].InstanceId, instances = instances }
end

function aws.s3_bucket_create(name, opts)
  cli.want(name, "string", "name", "aws.s3_bucket_create")
  opts = options(opts, "aws.s3_bucket_create")
  local argv = cli.flags(aws_argv("s3api", "create-bucket", opts), opts, { { "acl", "--acl" } })
  cli.append(argv, { "--bucket", name })
  -- us-east-1 is S3's default location and refuses being named as a LocationConstraint.
  if opts.region and opts.region ~= "us-east-1" then
    cli.append(argv, { "--create-bucket-configuration", "LocationConstraint=" .. opts.region })
  end
  local changed = true
  local created, err, failed = acall(cli.append(argv, { "--output", "json" }))
  if not created then
    if not tostring(err):find("BucketAlreadyOwnedByYou", 1, true) then return nil, err, failed end
    changed = false
  end
  if opts.versioning then
    local ok, verr, vfailed = acall(cli.append(aws_argv("s3api", "put-bucket-versioning", opts),
      { "--bucket", name, "--versioning-configuration", "Status=Enabled" }))
    if not ok then return nil, verr, vfailed end
  end
  if opts.encryption then
    local algorithm = opts.encryption == true and "AES256" or tostring(opts.encryption)
    local rules = '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"' .. algorithm .. '"}}]}'
    local ok, eerr, efailed = acall(cli.append(aws_argv("s3api", "put-bucket-encryption", opts),
      { "--bucket", name, "--server-side-encryption-configuration", rules }))
    if not ok then return nil, eerr, efailed end
  end
  return { bucket = name, changed = changed }
end

local function s3_copy(from, to, opts)
  local result, err, failed = acall(cli.append(aws_argv("s3", "cp", options(opts, "aws.s3")), { from, to }))
  if not result then return nil, err, failed end
  return { changed = true, stdout = result.stdout }
end

function aws.s3_upload(file, bucket, key, opts)
  cli.want(file, "string", "file", "aws.s3_upload")
  cli.want(bucket, "string", "bucket", "aws.s3_upload")
  return s3_copy(file, "s3://" .. bucket .. "/" .. (key or file:match("[^/]+$")), opts)
end

function aws.s3_download(bucket, key, file, opts)
  cli.want(bucket, "string", "bucket", "aws.s3_download")
  cli.want(key, "string", "key", "aws.s3_download")
  return s3_copy("s3://" .. bucket .. "/" .. key, file or key:match("[^/]+$"), opts)
end

function aws.rds_instance_create(opts)
  opts = options(opts, "aws.rds_instance_create")
  cli.want(opts.identifier, "string", "identifier", "aws.rds_instance_create")
  local argv = cli.flags(aws_argv("rds", "create-db-instance", opts), opts, {
    { "identifier", "--db-instance-identifier" }, { "engine", "--engine" }, { "engine_version", "--engine-version" },
    { "instance_class", "--db-instance-class" }, { "allocated_storage", "--allocated-storage" },
    { "master_username", "--master-username" },
  })
  multi(argv, "--vpc-security-group-ids", opts.vpc_security_groups)
  local call_opts
  if opts.master_password then  -- the password reaches aws as JSON on stdin, never in argv
    cli.append(argv, { "--cli-input-json", "file:///dev/stdin" })
    call_opts = { stdin = cli.data.json_encode({ MasterUserPassword = tostring(opts.master_password) }) }
  end
  local decoded, err, failed = ajson(cli.append(argv, { "--output", "json" }), call_opts)
  if not decoded then return nil, err, failed end
  return decoded.DBInstance or decoded
end

---------------------------------------------------------------------------------------------------- azure
local azure = {}
local _, zjson, _, zraw = runner("az")
azure.cli = zraw

local function az_create(words, opts, fname, spec, required)
  opts = options(opts, fname)
  cli.want(opts[required or "name"], "string", required or "name", fname)
  local argv = cli.flags(cli.append({}, words), opts, spec)
  if opts.tags then
    local tags = {}
    for _, k in ipairs(sorted_keys(opts.tags)) do tags[#tags + 1] = k .. "=" .. str(opts.tags[k]) end
    multi(argv, "--tags", tags)
  end
  return zjson(cli.append(argv, { "--output", "json" }))
end

function azure.vm_create(opts)
  return az_create({ "vm", "create" }, opts, "azure.vm_create", {
    { "name", "--name" }, { "resource_group", "--resource-group" }, { "location", "--location" }, { "size", "--size" },
    { "image", "--image" }, { "admin_username", "--admin-username" }, { "ssh_key", "--ssh-key-values" },
    { "generate_ssh_keys", "--generate-ssh-keys", "bool" },
  })
end

function azure.storage_account_create(opts)
  return az_create({ "storage", "account", "create" }, opts, "azure.storage_account_create", {
    { "name", "--name" }, { "resource_group", "--resource-group" }, { "location", "--location" }, { "sku", "--sku" },
    { "kind", "--kind" },
  })
end

-- gcloud and doctl answer a create with a list of what they made: the first is the result.
local function first_made(json, argv)
  local decoded, err, failed = json(argv)
  if not decoded then return nil, err, failed end
  return decoded[1] or decoded
end

---------------------------------------------------------------------------------------------------- gcp
local gcp = {}
local _, gjson, _, graw = runner("gcloud")
gcp.cli = graw

function gcp.compute_instance_create(opts)
  opts = options(opts, "gcp.compute_instance_create")
  local argv = { "compute", "instances", "create", cli.want(opts.name, "string", "name", "gcp.compute_instance_create") }
  cli.flags(argv, opts, {
    { "project", "--project", "joined" }, { "zone", "--zone", "joined" }, { "machine_type", "--machine-type", "joined" },
    { "image_project", "--image-project", "joined" }, { "image_family", "--image-family", "joined" },
    { "image", "--image", "joined" }, { "tags", "--tags", "csv" },
  })
  if opts.labels then
    local labels = {}
    for _, k in ipairs(sorted_keys(opts.labels)) do labels[#labels + 1] = k .. "=" .. str(opts.labels[k]) end
    argv[#argv + 1] = "--labels=" .. table.concat(labels, ",")
  end
  return first_made(gjson, cli.append(argv, { "--format=json" }))
end

function gcp.storage_bucket_create(name, opts)
  cli.want(name, "string", "name", "gcp.storage_bucket_create")
  opts = options(opts, "gcp.storage_bucket_create")
  local argv = cli.flags({ "storage", "buckets", "create", "gs://" .. name }, opts, {
    { "project", "--project", "joined" }, { "location", "--location", "joined" },
    { "storage_class", "--default-storage-class", "joined" },
  })
  return first_made(gjson, cli.append(argv, { "--format=json" }))
end

---------------------------------------------------------------------------------------------------- digitalocean
local digitalocean = {}
local _, ojson, _, oraw = runner("doctl")
digitalocean.cli = oraw

function digitalocean.droplet_create(opts)
  opts = options(opts, "digitalocean.droplet_create")
  local argv = { "compute", "droplet", "create", cli.want(opts.name, "string", "name", "digitalocean.droplet_create") }
  cli.flags(argv, opts, {
    { "region", "--region" }, { "size", "--size" }, { "image", "--image" }, { "vpc_uuid", "--vpc-uuid" },
    { "backups", "--enable-backups", "bool" }, { "monitoring", "--enable-monitoring", "bool" }, { "wait", "--wait", "bool" },
  })
  if opts.ssh_keys then cli.append(argv, { "--ssh-keys", joined(opts.ssh_keys) }) end
  if opts.tags then cli.append(argv, { "--tag-names", joined(opts.tags) }) end
  return first_made(ojson, cli.append(argv, { "--output", "json" }))
end

local RULE_KEYS = { "entry_protocol", "entry_port", "target_protocol", "target_port", "certificate_id", "tls_passthrough" }

local function forwarding_rule(rule)
  local parts = {}
  for _, k in ipairs(RULE_KEYS) do
    local v = rule[k]
    if k == "tls_passthrough" and v == nil then v = false end
    if v ~= nil then parts[#parts + 1] = k .. ":" .. str(v) end
  end
  return table.concat(parts, ",")
end

function digitalocean.loadbalancer_create(opts)
  opts = options(opts, "digitalocean.loadbalancer_create")
  cli.want(opts.name, "string", "name", "digitalocean.loadbalancer_create")
  local argv = cli.flags({ "compute", "load-balancer", "create" }, opts, {
    { "name", "--name" }, { "region", "--region" }, { "tag_name", "--tag-name" }, { "vpc_uuid", "--vpc-uuid" },
  })
  if opts.forwarding_rules then
    local rules = {}
    for _, rule in ipairs(opts.forwarding_rules) do rules[#rules + 1] = forwarding_rule(rule) end
    cli.append(argv, { "--forwarding-rules", table.concat(rules, " ") })
  end
  if opts.droplet_ids then cli.append(argv, { "--droplet-ids", joined(opts.droplet_ids) }) end
  return first_made(ojson, cli.append(argv, { "--output", "json" }))
end

return {
  docker = cli.module("docker", docker), incus = cli.module("incus", incus),
  terraform = cli.module("terraform", terraform), pulumi = cli.module("pulumi", pulumi),
  aws = cli.module("aws", aws), azure = cli.module("azure", azure), gcp = cli.module("gcp", gcp),
  digitalocean = cli.module("digitalocean", digitalocean),
}

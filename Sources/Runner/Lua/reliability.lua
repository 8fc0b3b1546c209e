-- reliability (retry with backoff, circuit breakers, timeouts) and help (what the modules offer).
-- A call fails when it raises an error or answers `nil|false, err`; waits yield like goroutine.sleep.
local S, util, sched, ctx, modules, part = ...
local cli = part("cli")
local unpack, pack = table.unpack, table.pack

local reliability = {}

-- -> ok, results (packed) | false, error text
local function attempt(fn)
  local results = pack(pcall(fn))
  if not results[1] then return false, tostring(results[2]) end
  if results.n >= 3 and (results[2] == nil or results[2] == false) then return false, tostring(results[3]) end
  return true, pack(unpack(results, 2, results.n))
end

-- retry(fn, {max_attempts=3, initial_delay=1, max_delay=30, backoff_factor=2, jitter=false, on_retry=fn(attempt, err)})
function reliability.retry(fn, opts)
  cli.want(fn, "function", "the operation", "reliability.retry")
  opts = opts or {}
  local attempts = math.max(1, math.floor(tonumber(opts.max_attempts or opts.attempts) or 3))
  local delay = tonumber(opts.initial_delay or opts.delay) or 1
  local factor, ceiling = tonumber(opts.backoff_factor) or 2, tonumber(opts.max_delay) or 30
  local err
  for n = 1, attempts do
    local ok, results = attempt(fn)
    if ok then return unpack(results, 1, results.n) end
    err = results
    if n < attempts then
      if opts.on_retry then opts.on_retry(n, err) end
      local wait = math.min(delay * factor ^ (n - 1), ceiling)
      if opts.jitter then wait = wait * (0.5 + math.random() / 2) end
      sched.sleep(wait * 1000)
    end
  end
  return nil, "failed after " .. attempts .. " attempts: " .. err
end

-- Breakers live for the run, by name (default: where the function was written).
local breakers = {}
local function breaker_for(fn, opts)
  local info = debug.getinfo(fn, "S")
  local name = opts.name or (info.short_src .. ":" .. info.linedefined)
  local breaker = breakers[name]
  if not breaker then
    breaker = { name = name, state = "closed", failures = 0, successes = 0 }
    breakers[name] = breaker
  end
  return breaker
end

-- circuit_breaker(fn, {name, failure_threshold=5, timeout=60, success_threshold=2}): after the threshold of
-- failures in a row the circuit opens and calls fail at once until `timeout` seconds pass; then calls
-- are let through half-open, and `success_threshold` successes close it again.
function reliability.circuit_breaker(fn, opts)
  cli.want(fn, "function", "the operation", "reliability.circuit_breaker")
  opts = opts or {}
  local breaker = breaker_for(fn, opts)
  local now = S.now()
  if breaker.state == "open" then
    if now < breaker.retry_at then
      return nil, "circuit '" .. breaker.name .. "' is open (next try in " .. math.ceil((breaker.retry_at - now) / 1000) .. "s)"
    end
    breaker.state, breaker.successes = "half_open", 0
  end
  local ok, results = attempt(fn)
  if ok then
    breaker.failures = 0
    breaker.successes = breaker.successes + 1
    if breaker.state == "half_open" and breaker.successes >= (tonumber(opts.success_threshold) or 2) then breaker.state = "closed" end
    return unpack(results, 1, results.n)
  end
  breaker.failures = breaker.failures + 1
  if breaker.state == "half_open" or breaker.failures >= (tonumber(opts.failure_threshold) or 5) then
    breaker.state, breaker.retry_at = "open", now + (tonumber(opts.timeout) or 60) * 1000
  end
  return nil, results
end

function reliability.circuit_state(name)
  local breaker = breakers[name]
  if not breaker then return nil, "no circuit named '" .. tostring(name) .. "'" end
  return { name = breaker.name, state = breaker.state, failures = breaker.failures }
end

function reliability.reset(name) breakers[name] = nil; return true end

-- timeout(fn, seconds) -> fn's results, or nil, "timed out after Ns" (fn is stopped, its commands ended).
function reliability.timeout(fn, seconds)
  cli.want(fn, "function", "the operation", "reliability.timeout")
  seconds = tonumber(seconds) or 30
  local results = pack(_G.goroutine.timeout(seconds * 1000, fn))
  if results[1] then return unpack(results, 2, results.n) end
  if results[2] == "timeout" then return nil, "timed out after " .. seconds .. "s" end
  return nil, tostring(results[2])
end

-- help -----------------------------------------------------------------------------------------
local documented = {
  "log", "exec", "fs", "file", "data", "json", "crypto", "http", "net", "goroutine", "state", "values", "env", "event",
  "infra_test", "sloth", "facts", "secrets", "pkg", "user", "group", "systemd", "ssh", "stow", "python", "salt", "system",
  "git", "gitops", "docker", "incus", "terraform", "pulumi", "aws", "azure", "gcp", "digitalocean", "validate", "template",
  "database", "monitor", "metrics", "notify", "reliability",
}

local function functions_of(name)
  local module, names = _G[name], {}
  if type(module) ~= "table" then return names end
  for key, value in pairs(module) do
    if type(value) == "function" and not tostring(key):find("^_") then names[#names + 1] = key end
  end
  table.sort(names)
  return names
end

local help = {}
function help.modules()
  local list = {}
  for _, name in ipairs(documented) do list[#list + 1] = name end
  return list
end

-- -> list of {module, function, name = "module.function"} whose name contains `term`.
function help.search(term)
  term = tostring(term or ""):lower()
  local found = {}
  for _, module in ipairs(documented) do
    for _, fname in ipairs(functions_of(module)) do
      local full = module .. "." .. fname
      if full:lower():find(term, 1, true) then found[#found + 1] = { module = module, ["function"] = fname, name = full } end
    end
  end
  return found
end

function help.functions(module) return functions_of(cli.want(module, "string", "the module", "help.functions")) end

local examples = {
  exec = 'local r = exec.run("uname -a")\nif r.success then log.info(r.stdout) end',
  http = 'local res, err = http.get({ url = "https://example.com", timeout = 5 })',
  goroutine = 'local ch = goroutine.channel()\ngoroutine.async(function() ch:send(42) end)\nlog.info(ch:receive())',
  pkg = 'pkg.install({ "nginx", "curl" })',
  systemd = 'systemd.enable("nginx"); systemd.start("nginx")',
  git = 'git.clone({ url = "https://example.com/repo.git", local_path = "/opt/repo" })',
  notify = 'notify.slack(os.getenv("SLACK_WEBHOOK"), { text = "deployed" })',
  database = 'db.connect("app", "sqlite3", "/var/lib/app.db")\nlocal rows = db.query("app", "SELECT * FROM t WHERE id = ?", { 1 })',
}

-- -> the example text (of one module, or of all); also logged.
function help.examples(module)
  local text
  if module then
    text = examples[module] or ("no example for '" .. tostring(module) .. "'; see docs/modules.md")
  else
    local names = {}
    for name in pairs(examples) do names[#names + 1] = name end
    table.sort(names)
    local parts = {}
    for _, name in ipairs(names) do parts[#parts + 1] = "-- " .. name .. "\n" .. examples[name] end
    text = table.concat(parts, "\n\n")
  end
  cli.log.info(text)
  return text
end

local help_module = setmetatable(help, { __call = function()
  local text = "slothd modules (help.modules(), help.search(term), help.examples(module), docs/modules.md): "
    .. table.concat(documented, ", ")
  cli.log.info(text)
  return text
end })

return { reliability = cli.module("reliability", reliability), help = help_module }

-- monitor and metrics: counters, gauges, histograms and timers kept by slothd for every run of the
-- process, served on its /metrics as slothd_workflow_NAME and by monitor.export_prometheus().
local S, util, sched, ctx, modules, part = ...
local cli = part("cli")

local function record(op, name, value, labels, fname)
  cli.want(name, "string", "the metric name", fname)
  if labels ~= nil then cli.want(labels, "table", "the labels", fname) end
  S.metric(op, name, value, labels)
  return true
end

local monitor = {}
function monitor.counter_inc(name, labels) return record("counter", name, 1, labels, "monitor.counter_inc") end
function monitor.counter_add(name, value, labels) return record("counter", name, tonumber(value) or 0, labels, "monitor.counter_add") end
function monitor.gauge_set(name, value, labels) return record("gauge_set", name, tonumber(value) or 0, labels, "monitor.gauge_set") end
function monitor.gauge_inc(name, value, labels)
  if type(value) == "table" then value, labels = 1, value end
  return record("gauge_add", name, tonumber(value) or 1, labels, "monitor.gauge_inc")
end
function monitor.gauge_dec(name, value, labels)
  if type(value) == "table" then value, labels = 1, value end
  return record("gauge_add", name, -(tonumber(value) or 1), labels, "monitor.gauge_dec")
end
function monitor.histogram_observe(name, value, labels)
  return record("observe", name, tonumber(value) or 0, labels, "monitor.histogram_observe")
end

-- Timers measure on the monotonic clock; timer_end records the duration in seconds as a histogram
-- and answers it in milliseconds, as the reference shows.
local timers, next_timer = {}, 0
function monitor.timer_start(name, labels)
  cli.want(name, "string", "the metric name", "monitor.timer_start")
  next_timer = next_timer + 1
  local key = name .. "#" .. next_timer
  timers[key] = { name = name, labels = labels, started = S.now() }
  return key
end
function monitor.timer_end(key)
  local timer = timers[key]
  if not timer then return nil, "monitor.timer_end: no running timer '" .. tostring(key) .. "'" end
  timers[key] = nil
  local elapsed = S.now() - timer.started
  record("observe", timer.name, elapsed / 1000, timer.labels, "monitor.timer_end")
  return elapsed
end

-- One metric's first series, or nil, "why".
function monitor.get_metric(name)
  local series = S.metric("list", cli.want(name, "string", "the metric name", "monitor.get_metric"))
  if #series == 0 then return nil, "no metric named '" .. name .. "'" end
  local first = series[1]
  first.series = series
  return first
end
function monitor.list_metrics() return S.metric("list") end
function monitor.reset_metric(name) return S.metric("reset", cli.want(name, "string", "the metric name", "monitor.reset_metric")) end
function monitor.clear_all() return S.metric("clear") end
function monitor.export_prometheus() return S.metric("prometheus") end
function monitor.export_json() return cli.data.json_encode(S.metric("list")) end

-- This host's load, memory and disk as gauges (system_*), and the same values as a table.
local function read_all(path)
  local file = io.open(path)
  if not file then return "" end
  local text = file:read("a")
  file:close()
  return text
end
local function meminfo()
  local text = read_all("/proc/meminfo")
  local kb = function(key) return (tonumber(text:match(key .. ":%s+(%d+)")) or 0) * 1024 end
  return kb("MemTotal"), kb("MemAvailable")
end
function monitor.system_metrics()
  local load1 = tonumber(read_all("/proc/loadavg"):match("^(%S+)")) or 0
  local total, available = meminfo()
  local values = { load1 = load1, memory_total_bytes = total, memory_available_bytes = available,
                   memory_used_percent = total > 0 and (total - available) * 100 / total or 0 }
  for key, value in pairs(values) do record("gauge_set", "system_" .. key, value, nil, "monitor.system_metrics") end
  return values
end

-- The Lua heap of this run (Lua has no Go runtime: heap_sys and num_gc answer what Lua can tell).
function monitor.memory_stats()
  local bytes = math.floor(collectgarbage("count") * 1024)
  return { heap_alloc = bytes, heap_sys = bytes, num_gc = 0 }
end

-- metrics (the other reference's names).
local metrics = {}
function metrics.counter(name, value, labels) return record("counter", name, tonumber(value) or 1, labels, "metrics.counter") end
function metrics.gauge(name, value, labels) return record("gauge_set", name, tonumber(value) or 0, labels, "metrics.gauge") end
function metrics.histogram(name, value, labels) return record("observe", name, tonumber(value) or 0, labels, "metrics.histogram") end
metrics.timer_start, metrics.timer_end = monitor.timer_start, monitor.timer_end
function metrics.custom(name, value, opts)
  opts = opts or {}
  local op = ({ counter = "counter", gauge = "gauge_set", histogram = "observe" })[opts.type or "gauge"]
  if not op then error("metrics.custom: type must be counter, gauge or histogram (got " .. tostring(opts.type) .. ")", 2) end
  return record(op, name, tonumber(value) or 0, opts.labels, "metrics.custom")
end
metrics.list, metrics.get, metrics.export_prometheus = monitor.list_metrics, monitor.get_metric, monitor.export_prometheus

return { monitor = cli.module("monitor", monitor), metrics = cli.module("metrics", metrics) }

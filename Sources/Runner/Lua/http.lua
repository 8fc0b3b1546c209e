-- http (also net): requests on curl threads, yielding until they answer.
local S, util, sched, ctx, modules = ...
local M = {}


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
  M[method:lower()] = function(url, opts) return http_call(method, url, opts) end
end
function M.request(opts, maybe)
  if type(opts) == "string" then return http_call(opts:upper(), maybe and maybe.url or maybe, maybe) end
  return http_call(tostring(opts.method or "GET"):upper(), opts.url, opts)
end
function M.download(url, destination)
  local opts = type(url) == "table" and url or { url = url, destination = destination }
  if not opts.destination then return nil, "http.download: a destination is required" end
  local response, err = http_call("GET", opts.url, opts)
  if not response then return nil, err end
  if not response.success then return nil, "download failed with HTTP " .. response.status_code end
  return true
end
function M.is_success(code) return code >= 200 and code < 300 end
function M.is_error(code) return code >= 400 end
function M.to_json(value) return data.json_encode(value) end
function M.parse_json(text) return data.json_parse(text) end
function M.url_encode(text)
  return (tostring(text):gsub("[^%w%-%._~ ]", function(c) return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
end
function M.url_decode(text)
  return (tostring(text):gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.http_get = function(url) return http_call("GET", url) end
M.post_json = function(url, value) return http_call("POST", url, { json = value }) end

return M

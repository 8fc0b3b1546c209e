-- validate (checks that answer {valid = ..., ...}, and sanitize) and template (Mustache, rendered by
-- swift-mustache): pure functions over values, nothing here blocks.
local S, util, sched, ctx, modules, part = ...
local cli = part("cli")
local fs = cli.fs

local validate = {}

local function invalid(reason, extra)
  local result = extra or {}
  result.valid, result.error = false, reason
  return result
end

function validate.email(text)
  if type(text) ~= "string" then return invalid("not a string") end
  local local_part, domain = text:match("^([%w%.%%%+%-_!#$&'*/=?^`{|}~]+)@([%w%-%.]+%.%a%a+)$")
  if not local_part or local_part:find("%.%.") or domain:find("%.%.") or #text > 254 then
    return invalid("not an email address")
  end
  return { valid = true, email = text, ["local"] = local_part, domain = domain:lower() }
end

function validate.url(text)
  if type(text) ~= "string" then return invalid("not a string") end
  local scheme, rest = text:match("^(%a[%w+.-]*)://(.+)$")
  if not scheme then return invalid("no scheme://") end
  local authority, tail = rest:match("^([^/?#]*)(.*)$")
  local userinfo, hostport = authority:match("^(.*)@(.*)$")
  hostport = hostport or authority
  local host, port = hostport:match("^%[(.-)%]:?(%d*)$")
  if not host then host, port = hostport:match("^([^:]*):?(%d*)$") end
  if not host or host == "" then return invalid("no host") end
  local path, query, fragment = tail:match("^([^?#]*)%??([^#]*)#?(.*)$")
  return { valid = true, scheme = scheme:lower(), host = host, port = port ~= "" and port or nil, user = userinfo,
           path = path, query = query, fragment = fragment }
end

local function ipv4(text)
  local parts = { text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$") }
  if #parts ~= 4 then return false end
  for _, part_text in ipairs(parts) do
    if tonumber(part_text) > 255 or (#part_text > 1 and part_text:sub(1, 1) == "0") then return false end
  end
  return true
end

local function ipv6(text)
  if not text:find(":", 1, true) or text:find(":::", 1, true) then return false end
  local head, last = text:match("^(.*):(%d+%.%d+%.%d+%.%d+)$")
  local groups, limit = text, 8
  if head and ipv4(last) then groups, limit = head .. ":", 6 end
  local _, compressions = groups:gsub("::", "")
  if compressions > 1 then return false end
  local count = 0
  for group in (groups .. ":"):gmatch("([^:]*):") do
    if group ~= "" then
      if not group:match("^%x%x?%x?%x?$") then return false end
      count = count + 1
    end
  end
  return compressions == 1 and count < limit or count == limit
end

function validate.ip(text)
  if type(text) ~= "string" then return invalid("not a string") end
  if ipv4(text) then return { valid = true, ip = text, version = "v4" } end
  if ipv6(text) then return { valid = true, ip = text, version = "v6" } end
  return invalid("not an IP address")
end

-- Regular expressions (ICU syntax, close to Go's RE2), not Lua patterns: what the references use.
function validate.regex(text, pattern)
  cli.want(pattern, "string", "the pattern", "validate.regex")
  local match, err = S.regex_match(tostring(text), pattern)
  if match == nil then return invalid(err) end
  if not match.matched then return invalid("no match", { matched = false, groups = {} }) end
  return { valid = true, matched = match.text, groups = match.groups }
end

local function bounds(value, opts, what)
  opts = opts or {}
  if opts.exact and value ~= opts.exact then return invalid(what .. " is " .. value .. ", not " .. opts.exact) end
  if opts.min and value < opts.min then return invalid(what .. " " .. value .. " is below " .. opts.min) end
  if opts.max and value > opts.max then return invalid(what .. " " .. value .. " is above " .. opts.max) end
  return { valid = true, value = value }
end

function validate.length(text, opts)
  local length = type(text) == "table" and #text or utf8.len(tostring(text)) or #tostring(text)
  local result = bounds(length, opts, "length")
  result.length = length
  return result
end

function validate.range(number, opts)
  number = tonumber(number)
  if not number then return invalid("not a number") end
  return bounds(number, opts, "value")
end

function validate.required(record, fields)
  local missing = {}
  for _, field in ipairs(fields or {}) do
    local value = type(record) == "table" and record[field] or nil
    if value == nil or value == "" then missing[#missing + 1] = field end
  end
  if #missing > 0 then return invalid("missing " .. table.concat(missing, ", "), { missing = missing }) end
  return { valid = true, missing = {} }
end

-- One field against its rule: required, type, min/max (numbers), min_length/max_length, pattern (regex), enum.
local function field_errors(name, value, rule, errors)
  local function fail(message) errors[#errors + 1] = { field = name, message = message } end
  local required = rule.required == true or rule.required == "true"
  if value == nil then
    if required then fail("is required") end
    return
  end
  if rule.type and type(value) ~= rule.type then return fail("must be a " .. rule.type .. ", not a " .. type(value)) end
  if type(value) == "number" then
    if rule.min and value < rule.min then fail("must be at least " .. rule.min) end
    if rule.max and value > rule.max then fail("must be at most " .. rule.max) end
  end
  if type(value) == "string" then
    if rule.min_length and #value < rule.min_length then fail("must be at least " .. rule.min_length .. " characters") end
    if rule.max_length and #value > rule.max_length then fail("must be at most " .. rule.max_length .. " characters") end
    if rule.pattern and not validate.regex(value, rule.pattern).valid then fail("does not match " .. rule.pattern) end
  end
  if rule.enum then
    local allowed = false
    for _, option in ipairs(rule.enum) do allowed = allowed or option == value end
    if not allowed then fail("is not one of the allowed values") end
  end
end

function validate.schema(record, schema)
  cli.want(schema, "table", "the schema", "validate.schema")
  local errors, names = {}, {}
  for name in pairs(schema) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do field_errors(name, type(record) == "table" and record[name] or nil, schema[name], errors) end
  return { valid = #errors == 0, errors = errors }
end

local html_entities = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
local sanitizers = {
  html = function(text) return (text:gsub("[&<>\"']", html_entities)) end,
  sql = function(text) return (text:gsub("'", "''"):gsub("\\", "\\\\"):gsub("%-%-", ""):gsub(";", "")) end,
  trim = function(text) return cli.trim(text) end,
  lower = string.lower,
  upper = string.upper,
  alphanumeric = function(text) return (text:gsub("[^%w]", "")) end,
  filename = function(text) return (text:gsub("[/\\%z]", "_"):gsub("^%.+", "_")) end,
  shell = function(text) return "'" .. text:gsub("'", "'\\''") .. "'" end,
}

function validate.sanitize(text, kind)
  local sanitize = sanitizers[kind or "html"]
  if not sanitize then error("validate.sanitize: unknown kind '" .. tostring(kind) .. "' (html, sql, trim, lower, upper, alphanumeric, filename, shell)", 2) end
  return sanitize(tostring(text))
end

-- template ------------------------------------------------------------------------------------
local template = {}

local function render(text, values)
  local rendered, err = S.template_render(text, values or {})
  if rendered == nil then return nil, err end
  return rendered
end

-- render(text, values) -> the text; render(source_file, destination, values) writes the file (ref-40)
-- and answers {changed, path}, writing only when the content differs.
function template.render(source, destination, values)
  cli.want(source, "string", "the template", "template.render")
  if type(destination) ~= "string" then return render(source, destination) end
  local text, err = fs.read(cli.expand(source))
  if not text then return nil, err end
  local rendered, render_err = render(text, values)
  if not rendered then return nil, render_err end
  local path = cli.expand(destination)
  if fs.exists(path) and fs.read(path) == rendered then return { changed = false, path = path } end
  local ok, write_err = fs.write(path, rendered)
  if not ok then return nil, write_err end
  return { changed = true, path = path }
end

function template.render_string(text, values) return render(cli.want(text, "string", "the template", "template.render_string"), values) end

function template.render_file(path, values)
  local text, err = fs.read(cli.expand(cli.want(path, "string", "the path", "template.render_file")))
  if not text then return nil, err end
  return render(text, values)
end

return { validate = cli.module("validate", validate), template = cli.module("template", template) }

-- notify (also notifications): Slack, Discord, Teams, Telegram and generic webhooks over http, e-mail
-- over SMTP with libcurl. -> true, or nil, "why" (the service's status and answer).
local S, util, sched, ctx, modules, part = ...
local cli = part("cli")
local notify = {}

local function post(service, url, payload, opts)
  cli.want(url, "string", "the webhook URL", "notify." .. service)
  opts = opts or {}
  local response, err = part("http").request({ method = opts.method or "POST", url = url, json = payload,
                                               headers = opts.headers, timeout = opts.timeout or 30 })
  if not response then return nil, service .. ": " .. err end
  if not response.success then
    return nil, service .. ": HTTP " .. response.status_code .. ": " .. cli.trim(response.body):sub(1, 500)
  end
  return true
end

-- The message as a table of the service's own fields, or text plus options (the other reference's form).
local function message(text_or_table, opts, text_key)
  if type(text_or_table) == "table" then return text_or_table end
  local payload = {}
  for key, value in pairs(opts or {}) do payload[key] = value end
  payload[text_key] = tostring(text_or_table)
  return payload
end

function notify.slack(webhook, text, opts)
  return post("slack", webhook, message(text, opts, "text"))
end

function notify.discord(webhook, content, opts)
  return post("discord", webhook, message(content, opts, "content"))
end

-- An Office 365 connector card: title, text, theme_color, sections.
function notify.teams(webhook, card, opts)
  card = message(card, opts, "text")
  local payload = { ["@type"] = "MessageCard", ["@context"] = "https://schema.org/extensions", summary = card.summary or card.title or card.text,
                    title = card.title, text = card.text, themeColor = card.theme_color or card.themeColor, sections = card.sections }
  return post("teams", webhook, payload)
end

-- telegram(token, chat_id, text) or telegram({bot_token, chat_id, text, parse_mode, api_url}).
function notify.telegram(token, chat_id, text)
  local spec = type(token) == "table" and token or { bot_token = token, chat_id = chat_id, text = text }
  cli.want(spec.bot_token, "string", "bot_token", "notify.telegram")
  local base = spec.api_url or "https://api.telegram.org"
  return post("telegram", base .. "/bot" .. spec.bot_token .. "/sendMessage",
              { chat_id = tostring(spec.chat_id), text = tostring(spec.text or spec.message or ""), parse_mode = spec.parse_mode,
                disable_notification = spec.disable_notification })
end

function notify.webhook(url, opts)
  opts = opts or {}
  return post("webhook", url, opts.data or opts.body or opts.payload or {}, opts)
end

-- E-mail ------------------------------------------------------------------------------------------
local function addresses(value)
  local list = {}
  for _, item in ipairs(cli.list(value)) do
    for address in tostring(item):gmatch("[^,;%s]+") do list[#list + 1] = address end
  end
  return list
end

local function header_safe(text, what)
  text = tostring(text or "")
  if text:find("[\r\n]") then error("notify.email: " .. what .. " must be one line", 4) end
  return text
end

local function compose(spec, to, cc)
  local lines = {
    "From: " .. header_safe(spec.from, "from"),
    "To: " .. header_safe(table.concat(to, ", "), "to"),
    "Subject: " .. header_safe(spec.subject, "subject"),
    "Date: " .. os.date("!%a, %d %b %Y %H:%M:%S +0000"),
    "MIME-Version: 1.0",
    "Content-Type: " .. (spec.html and "text/html" or "text/plain") .. "; charset=utf-8",
  }
  if #cc > 0 then table.insert(lines, 3, "Cc: " .. header_safe(table.concat(cc, ", "), "cc")) end
  -- libcurl doubles a leading dot itself (RFC 5321 4.5.2), so a body line never ends the message.
  local body = tostring(spec.body or ""):gsub("\r?\n", "\r\n")
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. body .. "\r\n"
end

-- email({smtp_host, smtp_port, username|smtp_user, password|smtp_pass, from, to, cc, bcc, subject, body, html, tls}).
-- Port 465 (or tls = true) speaks TLS from the start; other ports upgrade with STARTTLS when offered.
function notify.email(spec)
  cli.want(spec, "table", "the message", "notify.email")
  cli.want(spec.smtp_host, "string", "smtp_host", "notify.email")
  local to, cc, bcc = addresses(spec.to), addresses(spec.cc), addresses(spec.bcc)
  if #to == 0 then return nil, "email: no recipient (to)" end
  local port = tonumber(spec.smtp_port) or 587
  local scheme = (spec.tls == true or port == 465) and "smtps" or "smtp"
  local recipients = {}
  for _, list in ipairs({ to, cc, bcc }) do for _, address in ipairs(list) do recipients[#recipients + 1] = address end end
  local result = sched.await_op(S.mail_start({
    url = scheme .. "://" .. spec.smtp_host .. ":" .. port, from = tostring(spec.from or spec.username or ""), to = recipients,
    message = compose(spec, to, cc), username = spec.username or spec.smtp_user, password = spec.password or spec.smtp_pass,
    timeout_ms = util.duration_ms(spec.timeout or 30, "email timeout"),
  }))
  if type(result) == "table" and result.error then return nil, "email: " .. result.error end
  return true
end

local module = cli.module("notify", notify)
return { notify = module, notifications = module }

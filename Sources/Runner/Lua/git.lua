-- git and gitops over the git command line, on real repositories: clone is idempotent, every change
-- reports `changed`, and results carry the repository's `path` and `commit_sha`.
local S, util, sched, ctx, modules, part = ...
local cli = part("cli")
local fs = cli.fs

local git, gitops = {}, {}

local function absolute(path)
  path = cli.expand(path)
  if path:sub(1, 1) == "/" then return path end
  return modules.workdir() .. "/" .. path
end

-- Credentials reach git through a credential helper that reads them from the environment: never in
-- argv, in a URL git might print, or in .git/config. The first, empty helper drops any configured one,
-- so no `store` helper writes the password to disk.
local HELPER = '!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" '
  .. '"$SLOTH_GIT_USERNAME" "$SLOTH_GIT_PASSWORD"; }; f'

local function git_env(auth)
  -- Nothing can answer a prompt: git fails instead of waiting for a username.
  local env = { GIT_TERMINAL_PROMPT = "0" }
  if auth ~= nil then
    cli.want(auth, "table", "auth", "git")
    env.GIT_CONFIG_COUNT = "2"
    env.GIT_CONFIG_KEY_0, env.GIT_CONFIG_VALUE_0 = "credential.helper", ""
    env.GIT_CONFIG_KEY_1, env.GIT_CONFIG_VALUE_1 = "credential.helper", HELPER
    env.SLOTH_GIT_USERNAME = tostring(auth.username or "")
    env.SLOTH_GIT_PASSWORD = tostring(auth.password or auth.token or "")
  end
  return env
end

local function scrub(text, auth)
  local secret = auth and tostring(auth.password or auth.token or "") or ""
  if text == nil or secret == "" then return text end
  local start, stop = text:find(secret, 1, true)
  while start do
    text = text:sub(1, start - 1) .. "***" .. text:sub(stop + 1)
    start, stop = text:find(secret, start + 3, true)
  end
  return text
end

-- git ARGS in `dir` (nil: the task's workdir) -> result, or nil, "git sub: why (exit N)", result.
local function run(dir, args, auth)
  if not cli.which("git") then return nil, "git: not found on PATH" end
  local result, err, failed = cli.call(cli.append({ "git" }, args), { workdir = dir, env = git_env(auth) })
  return result, scrub(err, auth), failed
end

-- A query's trimmed stdout, or nil when git says no.
local function query(dir, args)
  local result = run(dir, args)
  return result and cli.trim(result.stdout) or nil
end

local function head_sha(dir) return query(dir, { "rev-parse", "-q", "--verify", "HEAD" }) end
local function current_branch(dir) return query(dir, { "symbolic-ref", "--short", "-q", "HEAD" }) end

-- The repository directory named by `path`, or nil, "why".
local function repo_dir(path, fname)
  cli.want(path, "string", "path", fname)
  local dir = absolute(path)
  if not fs.is_dir(dir) then return nil, fname .. ": " .. dir .. " is not a directory" end
  return dir
end

-- Both forms: f(path, ...) and f({path = ..., ...}); `first` names the positional argument after path.
local function split(fname, path_or_opts, second, third, first)
  if type(path_or_opts) == "table" then
    local opts = path_or_opts
    return opts.path or opts.local_path or opts.dir, opts[first] or opts, opts
  end
  if type(second) == "table" then return path_or_opts, second, second end
  third = third or {}
  cli.want(third, "table", "options", fname)
  return path_or_opts, second, third
end

function git.is_repo(path)
  cli.want(path, "string", "path", "git.is_repo")
  local dir = absolute(path)
  if not fs.is_dir(dir) then return false end
  -- The top of a work tree: inside one (not bare), with no prefix below its root.
  return query(dir, { "rev-parse", "--is-inside-work-tree", "--show-prefix" }) == "true"
end

function git.ensure_clean(path)
  cli.want(path, "string", "path", "git.ensure_clean")
  local dir = absolute(path)
  local existed = fs.exists(dir)
  if existed then fs.rm(dir, { force = true }) end
  return { changed = existed, path = dir }
end

local function without_userinfo(url)
  return (url:gsub("^(%a[%w+.-]*://)[^/@]*@", "%1"):gsub("/+$", ""))
end

-- git stores a local source as an absolute path; a remote URL as given.
local function same_source(stored, url)
  if stored == nil then return false end
  if fs.exists(absolute(url)) then url = absolute(url) end
  return without_userinfo(stored) == without_userinfo(url)
end

local function default_dest(url)
  return (without_userinfo(url):match("([^/:]+)$") or "repo"):gsub("%.git$", "")
end

local function clone_args(url, dest, opts)
  local argv = { "clone" }
  cli.flags(argv, opts, { { "branch", "--branch" }, { "depth", "--depth" }, { "single_branch", "--single-branch", "bool" },
    { "recursive", "--recurse-submodules", "bool" } })
  return cli.append(argv, { "--", url, dest })
end

-- git.clone(url, dest[, opts]) or git.clone({url, local_path, branch, depth, clean, single_branch, auth}).
function git.clone(url, dest, opts)
  if type(url) == "table" then
    opts = url
    url, dest = opts.url or opts.repo, opts.local_path or opts.path or opts.destination
  end
  opts = opts or {}
  cli.want(url, "string", "url", "git.clone")
  cli.want(opts, "table", "options", "git.clone")
  local dir = absolute(dest or default_dest(url))
  if opts.clean then fs.rm(dir, { force = true }) end
  if git.is_repo(dir) then
    if not same_source(query(dir, { "config", "--get", "remote.origin.url" }), url) then
      return nil, "git.clone: " .. dir .. " is a clone of another repository"
    end
    return { changed = false, path = dir, commit_sha = head_sha(dir), branch = current_branch(dir) }
  end
  local result, err, failed = run(nil, clone_args(url, dir, opts), opts.auth)
  if not result then return nil, err, failed end
  return { changed = true, path = dir, commit_sha = head_sha(dir), branch = current_branch(dir) }
end

-- git.pull(path[, {branch, remote, rebase, auth}]) or git.pull({path, ...}).
function git.pull(path, opts)
  path, _, opts = split("git.pull", path, nil, opts)
  local dir, why = repo_dir(path, "git.pull")
  if not dir then return nil, why end
  local previous = head_sha(dir)
  local args = { "pull" }
  if opts.rebase == true then args[#args + 1] = "--rebase" elseif opts.rebase == false then args[#args + 1] = "--no-rebase" end
  if opts.ff_only then args[#args + 1] = "--ff-only" end
  if opts.branch or opts.remote then cli.append(args, { opts.remote or "origin", opts.branch }) end
  local result, err, failed = run(dir, args, opts.auth)
  if not result then return nil, err, failed end
  local sha = head_sha(dir)
  return { changed = sha ~= previous, path = dir, commit_sha = sha, previous_sha = previous, branch = current_branch(dir) }
end

local function branch_exists(dir, name)
  return query(dir, { "rev-parse", "-q", "--verify", "refs/heads/" .. name }) ~= nil
end

local function checkout_args(dir, target)
  if target.branch and target.create and not branch_exists(dir, target.branch) then
    return cli.append({ "checkout", "-q", "-b", target.branch }, { target.from })
  end
  local ref = target.branch or target.commit or (target.tag and "refs/tags/" .. target.tag) or target.ref
  if type(ref) ~= "string" then error("git.checkout: give a ref, or a branch, commit or tag", 3) end
  return { "checkout", "-q", ref, "--" }
end

-- git.checkout(path, ref | {branch, commit, tag, create, from}) or git.checkout({path, branch | commit | tag, create}).
function git.checkout(path, target)
  path, target = split("git.checkout", path, target, nil, "target")
  if type(target) == "string" then target = { ref = target } end
  local dir, why = repo_dir(path, "git.checkout")
  if not dir then return nil, why end
  local previous, previous_branch = head_sha(dir), current_branch(dir)
  local result, err, failed = run(dir, checkout_args(dir, target))
  if not result then return nil, err, failed end
  local sha, branch = head_sha(dir), current_branch(dir)
  return { changed = sha ~= previous or branch ~= previous_branch, path = dir, commit_sha = sha, branch = branch,
           previous_sha = previous }
end

-- "Name <email>" or {name, email} -> the author and committer variables.
local function identity(author)
  local name, email
  if type(author) == "table" then
    name, email = author.name, author.email
  else
    name, email = tostring(author):match("^%s*(.-)%s*<(.-)>%s*$")
  end
  if not name or not email then error("git.commit: author must be \"Name <email>\" or {name, email}", 4) end
  return { GIT_AUTHOR_NAME = name, GIT_AUTHOR_EMAIL = email, GIT_COMMITTER_NAME = name, GIT_COMMITTER_EMAIL = email }
end

local function commit_with(dir, message, opts)
  local args = { "commit", "-q", "-m", message }
  if opts.allow_empty then args[#args + 1] = "--allow-empty" end
  if not opts.author then return run(dir, args) end
  if not cli.which("git") then return nil, "git: not found on PATH" end
  local env = identity(opts.author)
  env.GIT_TERMINAL_PROMPT = "0"
  return cli.call(cli.append({ "git" }, args), { workdir = dir, env = env })
end

-- git.commit(path, message[, {add_all, author, allow_empty}]) or git.commit({path, message, ...}).
-- Nothing staged (after add_all) -> {changed = false}.
function git.commit(path, message, opts)
  path, message, opts = split("git.commit", path, message, opts, "message")
  cli.want(message, "string", "message", "git.commit")
  local dir, why = repo_dir(path, "git.commit")
  if not dir then return nil, why end
  if opts.add_all then
    local added, err, failed = run(dir, { "add", "-A" })
    if not added then return nil, err, failed end
  end
  local staged = cli.run({ "git", "diff", "--cached", "--quiet" }, { workdir = dir })
  if staged.exit_code == 0 and not opts.allow_empty then
    return { changed = false, path = dir, commit_sha = head_sha(dir) }
  end
  local result, err, failed = commit_with(dir, message, opts)
  if not result then return nil, err, failed end
  return { changed = true, path = dir, commit_sha = head_sha(dir), branch = current_branch(dir) }
end

-- `git push --porcelain` marks each ref: "=" up to date, "!" rejected, " ", "*", "+", "-" changed.
local function pushed_something(stdout)
  for line in tostring(stdout):gmatch("[^\n]+") do
    if line:find("^[ %*%+%-]\t") then return true end
  end
  return false
end

-- git.push(path[, {remote, branch, force, tags, set_upstream, auth}]) or git.push({path, ...}).
function git.push(path, opts)
  path, _, opts = split("git.push", path, nil, opts)
  local dir, why = repo_dir(path, "git.push")
  if not dir then return nil, why end
  local args = cli.flags({ "push", "--porcelain" }, opts, { { "force", "--force", "bool" }, { "tags", "--tags", "bool" },
    { "set_upstream", "--set-upstream", "bool" } })
  if opts.branch or opts.remote then cli.append(args, { opts.remote or "origin", opts.branch }) end
  local result, err, failed = run(dir, args, opts.auth)
  if not result then return nil, err, failed end
  return { changed = pushed_something(result.stdout), path = dir, commit_sha = head_sha(dir),
           remote = opts.remote or "origin", branch = opts.branch or current_branch(dir) }
end

-- git.tag(path, name[, {message, commit, force, push, remote, auth}]) or git.tag({path, name, ...}).
function git.tag(path, name, opts)
  path, name, opts = split("git.tag", path, name, opts, "name")
  cli.want(name, "string", "name", "git.tag")
  local dir, why = repo_dir(path, "git.tag")
  if not dir then return nil, why end
  local exists = query(dir, { "rev-parse", "-q", "--verify", "refs/tags/" .. name }) ~= nil
  if not exists or opts.force then
    local args = cli.flags({ "tag" }, opts, { { "force", "-f", "bool" }, { "message", "-m" } })
    if opts.message then table.insert(args, 2, "-a") end
    local result, err, failed = run(dir, cli.append(args, { name, opts.commit }))
    if not result then return nil, err, failed end
  end
  if opts.push then
    local argv = { "push", "--porcelain", opts.remote or "origin", "refs/tags/" .. name }
    if opts.force then table.insert(argv, 2, "--force") end
    local result, err, failed = run(dir, argv, opts.auth)
    if not result then return nil, err, failed end
  end
  return { changed = not exists or opts.force == true, path = dir, name = name,
           commit_sha = query(dir, { "rev-parse", "refs/tags/" .. name .. "^{commit}" }) }
end

local function list_branches(dir)
  local out, err = query(dir, { "for-each-ref", "--format=%(refname:short)", "refs/heads/" })
  if not out then return nil, err end
  return { branches = cli.lines(out), current = current_branch(dir), path = dir }
end

-- git.branch(path[, {create, from, delete, force}]) or git.branch({path, ...}): no create or
-- delete lists {branches, current}.
function git.branch(path, opts)
  path, _, opts = split("git.branch", path, nil, opts)
  local dir, why = repo_dir(path, "git.branch")
  if not dir then return nil, why end
  local name = opts.create or opts.delete
  if name == nil then return list_branches(dir) end
  cli.want(name, "string", opts.create and "create" or "delete", "git.branch")
  local exists = branch_exists(dir, name)
  if (opts.create ~= nil) == exists then return { changed = false, path = dir, name = name } end
  local args = opts.create and { "branch", name, opts.from } or { "branch", opts.force and "-D" or "-d", name }
  local result, err, failed = run(dir, args)
  if not result then return nil, err, failed end
  return { changed = true, path = dir, name = name }
end

-- One `git status --porcelain=v1 -z` entry "XY path" into the lists; renames carry their source next.
local function classify(status, entry)
  local x, y, file = entry:sub(1, 1), entry:sub(2, 2), entry:sub(4)
  if x == "?" then
    status.untracked[#status.untracked + 1] = file
    return false
  end
  if x ~= " " and x ~= "!" then status.staged[#status.staged + 1] = file end
  if y ~= " " then status.modified[#status.modified + 1] = file end
  return x == "R" or x == "C"
end

-- git.status(path) or git.status({path}) -> {branch, is_clean, modified, untracked, staged, commit_sha, ahead, behind}.
function git.status(path)
  path = split("git.status", path)
  local dir, why = repo_dir(path, "git.status")
  if not dir then return nil, why end
  local result, err, failed = run(dir, { "status", "--porcelain=v1", "-z", "--branch" })
  if not result then return nil, err, failed end
  local status = { path = dir, branch = current_branch(dir), commit_sha = head_sha(dir), modified = {}, untracked = {},
                   staged = {}, ahead = 0, behind = 0 }
  local skip = false
  for entry in result.stdout:gmatch("([^%z]+)%z") do
    if entry:sub(1, 3) == "## " then
      status.ahead = tonumber(entry:match("ahead (%d+)")) or 0
      status.behind = tonumber(entry:match("behind (%d+)")) or 0
    elseif skip then
      skip = false
    else
      skip = classify(status, entry)
    end
  end
  status.is_clean = #status.modified == 0 and #status.untracked == 0 and #status.staged == 0
  return status
end

-- Fields split by the unit separator, commits by the record separator: messages may hold newlines.
local LOG_FORMAT = "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e"

-- git.log(path[, {limit, ref, file}]) or git.log({path, limit}) -> {{sha, author, email, date, message}, ...}.
function git.log(path, opts)
  path, _, opts = split("git.log", path, nil, opts)
  local dir, why = repo_dir(path, "git.log")
  if not dir then return nil, why end
  if not head_sha(dir) then return {} end
  local args = { "log", LOG_FORMAT }
  if opts.limit then args[#args + 1] = "-n" .. tostring(math.tointeger(opts.limit) or opts.limit) end
  cli.append(args, { opts.ref or "HEAD", "--" })
  if opts.file then args[#args + 1] = opts.file end
  local result, err, failed = run(dir, args)
  if not result then return nil, err, failed end
  local commits = {}
  for record in result.stdout:gmatch("([^\30]+)\30") do
    local sha, author, email, date, message = record:match("^%s*(%x+)\31(.-)\31(.-)\31(.-)\31(.*)$")
    if sha then commits[#commits + 1] = { sha = sha, author = author, email = email, date = date, message = cli.trim(message) } end
  end
  return commits
end

-- gitops.sync({repo, branch, path, destination, auth}) -> {changed, path, destination, commit_sha, previous_sha}:
-- clones the first time, then brings the clone to the branch's newest commit (fast-forward only).
-- `path` is the manifests' directory inside the clone.
function gitops.sync(opts)
  cli.want(opts, "table", "options", "gitops.sync")
  cli.want(opts.repo, "string", "repo", "gitops.sync")
  local dest = absolute(opts.destination or default_dest(opts.repo))
  local manifests = opts.path and (dest .. "/" .. opts.path:gsub("/+$", "")) or dest
  local previous = git.is_repo(dest) and head_sha(dest) or nil
  -- clone refuses a destination that is a clone of another repository, and changes nothing in one of this.
  local result, err, failed = git.clone(opts.repo, dest, { branch = opts.branch, auth = opts.auth })
  if not result then return nil, "gitops.sync: " .. tostring(err):gsub("^git%.clone: ", ""), failed end
  if not result.changed then
    if opts.branch and current_branch(dest) ~= opts.branch then
      result, err, failed = git.checkout(dest, { branch = opts.branch })
      if not result then return nil, err, failed end
    end
    result, err, failed = git.pull(dest, { branch = opts.branch, ff_only = true, auth = opts.auth })
  end
  if not result then return nil, err, failed end
  local sha = head_sha(dest)
  return { changed = sha ~= previous, path = manifests, destination = dest, commit_sha = sha, previous_sha = previous }
end

-- kubectl's "kind/name created|configured|unchanged" lines: created or configured is a change.
local function applied(stdout)
  local changed, lines = false, cli.lines(stdout)
  for _, line in ipairs(lines) do
    if line:find(" created") or line:find(" configured") or line:find(" pruned") then changed = true end
  end
  return changed, lines
end

-- gitops.apply({source, namespace, dry_run, kubectl, context, prune_selector}) -> `kubectl apply -R -f SOURCE ...`.
function gitops.apply(opts)
  cli.want(opts, "table", "options", "gitops.apply")
  cli.want(opts.source, "string", "source", "gitops.apply")
  local kubectl = opts.kubectl or "kubectl"
  if not cli.which(kubectl) then return nil, kubectl .. ": not found on PATH" end
  local argv = cli.flags({ kubectl, "apply", "-R", "-f", absolute(opts.source) }, opts, {
    { "namespace", "-n" }, { "context", "--context" }, { "prune_selector", "--prune", "bool" },
  })
  if opts.prune_selector then cli.append(argv, { "-l", opts.prune_selector }) end
  if opts.dry_run then argv[#argv + 1] = "--dry-run=client" end
  local result, err, failed = cli.call(argv)
  if not result then return nil, err, failed end
  local changed, lines = applied(result.stdout)
  return { changed = changed and not opts.dry_run, resources = lines, stdout = result.stdout, dry_run = opts.dry_run == true }
end

return { git = cli.module("git", git), gitops = cli.module("gitops", gitops) }

-- database (also db): named connections to SQLite (GRDB) and PostgreSQL (postgres-nio), each call
-- on its own thread while the run's other goroutines go on. `?` placeholders work for both drivers.
local S, util, sched, ctx, modules, part = ...
local cli = part("cli")

local db = {}
local prepared, next_statement = {}, 0

local function call(spec)
  local result = sched.await_op(S.db_start(spec))
  if type(result) == "table" and result.error then return nil, result.error end
  return result
end

local function name_of(name, fname)
  return cli.want(name, "string", "the connection name", "db." .. fname)
end

-- A statement id from db.prepare stands for its SQL.
local function sql_of(sql, fname)
  if type(sql) == "string" and prepared[sql] then return prepared[sql] end
  return cli.want(sql, "string", "the SQL", "db." .. fname)
end

function db.connect(name, driver, dsn)
  cli.want(driver, "string", "the driver", "db.connect")
  cli.want(dsn, "string", "the data source", "db.connect")
  return call({ op = "connect", name = name_of(name, "connect"), driver = driver, dsn = cli.expand(dsn) })
end

-- -> a list of rows, each a table of column = value (NULL columns absent).
function db.query(name, sql, params)
  return call({ op = "query", name = name_of(name, "query"), sql = sql_of(sql, "query"), params = params or {} })
end

-- -> {rows_affected, last_insert_id (SQLite)}
function db.exec(name, sql, params)
  return call({ op = "exec", name = name_of(name, "exec"), sql = sql_of(sql, "exec"), params = params or {} })
end
db.execute = db.exec

-- Every statement or none: -> {success = true} or {success = false, error = "..."} (the reference's shape).
function db.transaction(name, statements)
  cli.want(statements, "table", "the statements", "db.transaction")
  local list = {}
  for i, statement in ipairs(statements) do
    if type(statement) == "string" then statement = { query = statement } end
    list[i] = { query = sql_of(statement.query or statement.sql, "transaction"), params = statement.params or {} }
  end
  local ok, err = call({ op = "transaction", name = name_of(name, "transaction"), statements = list })
  if not ok then return { success = false, error = err } end
  return { success = true }
end

function db.prepare(name, sql)
  name_of(name, "prepare")
  next_statement = next_statement + 1
  local id = "stmt:" .. next_statement
  prepared[id] = cli.want(sql, "string", "the SQL", "db.prepare")
  return id
end

function db.ping(name)
  return call({ op = "ping", name = name_of(name, "ping") }) == true
end

function db.disconnect(name) return call({ op = "disconnect", name = name_of(name, "disconnect") }) end
db.close = db.disconnect
function db.close_all() return call({ op = "close_all" }) end

local module = cli.module("database", db)
return { database = module, db = module }

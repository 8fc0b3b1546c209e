-- goroutine's Go-style primitives: channels, select, wait groups, locks, semaphores, once, atomics,
-- conds, contexts and map. All are cooperative: a blocking call parks its fiber on a wait queue of the
-- run's scheduler (sched.waiter, park, wake), so it yields instead of blocking the state.
local S, util, sched = ...
local sync = {}
local live, park, wake = sched.live, sched.park, sched.wake

-- Wait queues: a FIFO of entries ({waiter, data, taken as the case of a select}; a plain wait's waiter
-- is its own entry). Woken and dead entries are skipped when reached; an emptied queue starts again
-- at index 1, so its slots stay in the table's array part.
local Queue = {}
Queue.__index = Queue
local function queue() return setmetatable({ first = 1, last = 0, room = 32 }, Queue) end

-- A select loop leaves a dead entry on every queue but the one that woke it: past `room` entries the
-- queue keeps only the live ones, and doubles its room if most are live (amortized O(1) a push).
local function compact(q)
  local kept = {}
  for i = q.first, q.last do
    local entry = q[i]
    q[i] = nil
    if live(entry.waiter) then kept[#kept + 1] = entry end
  end
  for i, entry in ipairs(kept) do q[i] = entry end
  q.first, q.last = 1, #kept
  q.room = math.max(32, 2 * #kept)
end
function Queue:push(entry)
  local last = self.last + 1
  self.last, self[last] = last, entry
  if last - self.first >= self.room then compact(self) end
end

function Queue:size() return self.last - self.first + 1 end

-- -> the oldest live entry's waiter and data, left on the queue.
function Queue:peek()
  for i = self.first, self.last do
    local entry = self[i]
    if live(entry.waiter) then return entry.waiter, entry.data end
    self[i], self.first = nil, i + 1
  end
  self.first, self.last = 1, 0
end

-- Takes the oldest live entry off the queue -> its waiter and the entry's data, or nil. The waiter
-- notes the entry it was taken by (a select's case); wake it once the taker's own bookkeeping is done.
function Queue:pop()
  local at, last = self.first, self.last
  while at <= last do
    local entry = self[at]
    self[at], at = nil, at + 1
    local waiter = entry.waiter
    if live(waiter) then
      if at > last then self.first, self.last = 1, 0 else self.first = at end
      waiter.fired, waiter.taken = true, entry
      return waiter, entry.data
    end
  end
  if last ~= 0 then self.first, self.last = 1, 0 end
end

function Queue:wake_one(first, second)
  local waiter = self:pop()
  if not waiter then return false end
  wake(waiter, first, second)
  return true
end
function Queue:wake_all(first, second)
  while self:wake_one(first, second) do end
end

-- Parks the caller on the queue until woken -> the two values it was woken with.
function Queue:wait(data, on_abandon, owner)
  local waiter = sched.waiter(data, on_abandon, owner)
  self:push(waiter)
  return park(waiter)
end


-- Channels: unbuffered (a send waits for its receiver) or with `capacity` slots.
local Channel = {}
Channel.__index = Channel
function sync.channel(capacity)
  capacity = math.tointeger(capacity or 0)
  if not capacity or capacity < 0 then error("goroutine.channel: capacity must be a whole number >= 0", 2) end
  return setmetatable({ buffer = {}, head = 1, tail = 0, capacity = capacity, closed = false, receivers = queue(), senders = queue() },
    Channel)
end
function Channel:len() return self.tail - self.head + 1 end
function Channel:cap() return self.capacity end
function Channel:is_closed() return self.closed end
local function shift(ch)
  local value = ch.buffer[ch.head]
  ch.buffer[ch.head], ch.head = nil, ch.head + 1
  return value
end
local function push(ch, value)
  ch.tail = ch.tail + 1
  ch.buffer[ch.tail] = value
end
-- -> true (sent), false (would block), or false, "send on closed channel"
local function offer(ch, value)
  if ch.closed then return false, "send on closed channel" end
  local receiver = ch.receivers:pop()
  if receiver then wake(receiver, value, true); return true end
  if ch.tail - ch.head + 1 < ch.capacity then push(ch, value); return true end
  return false
end
-- -> value, true | nil, false (closed and drained) | nil, nil (would block)
local function take(ch)
  if ch.tail >= ch.head then
    local value = shift(ch)
    local sender, pending = ch.senders:pop()
    if sender then push(ch, pending); wake(sender, true) end
    return value, true
  end
  local sender, pending = ch.senders:pop()
  if sender then wake(sender, true); return pending, true end
  if ch.closed then return nil, false end
  return nil, nil
end
function Channel:send(value)
  local sent, err = offer(self, value)
  if sent or err then return sent, err end
  return self.senders:wait(value)
end
function Channel:try_send(value) return offer(self, value) end
-- A value handed to a receiver killed before it ran goes to the next receiver, or back to the head of
-- the buffer (it was the oldest).
local function give_back(ch, value, ok)
  if not ok or ch.receivers:wake_one(value, true) then return end
  ch.head = ch.head - 1
  ch.buffer[ch.head] = value
end
function Channel:receive()
  local value, ok = take(self)
  if ok ~= nil then return value, ok end
  return self.receivers:wait(nil, give_back, self)
end
function Channel:try_receive()
  local value, ok = take(self)
  return value, ok == true
end
function Channel:close()
  if self.closed then return false, "channel already closed" end
  self.closed = true
  self.receivers:wake_all(nil, false)
  self.senders:wake_all(false, "send on closed channel")
  return true
end
-- for value in ch:iter() do ... end, until the channel is closed and drained.
function Channel:iter()
  return function()
    local value, ok = self:receive()
    if ok then return value end
  end
end
function Channel:range(fn)
  for value in self:iter() do fn(value) end
end

-- select({ {ch, "receive", fn}, {ch, "send", v, fn}, default = fn }) or Sloth Runner's
-- { {channel = ch, receive = true, handler = fn}, {channel = ch, send = v, handler = fn}, {default = true, handler = fn} }.
-- The first ready case runs (a closed channel is ready: its receive gets nil, false); returns its index
-- and what its handler returned.
local function cases_of(spec)
  local cases, default = {}, spec.default
  for _, case in ipairs(spec) do
    if case.default then default = case.handler
    elseif case.channel then
      local op = case.receive and "receive" or "send"
      cases[#cases + 1] = { ch = case.channel, op = op, value = case.send, fn = case.handler }
    else
      local op = case[2]
      if op ~= "receive" and op ~= "send" then error("goroutine.select: a case is {channel, \"receive\", fn} or {channel, \"send\", value, fn}", 3) end
      cases[#cases + 1] = { ch = case[1], op = op, value = op == "send" and case[3] or nil, fn = op == "send" and case[4] or case[3] }
    end
  end
  return cases, default
end
local function run_case(index, case, ...)
  if case.fn then return index, case.fn(...) end
  return index, ...
end
function sync.select(spec)
  local cases, default = cases_of(spec)
  for index, case in ipairs(cases) do
    if case.op == "receive" then
      local value, ok = take(case.ch)
      if ok ~= nil then return run_case(index, case, value, ok) end
    else
      local sent, err = offer(case.ch, case.value)
      if err then error(err, 2) end
      if sent then return run_case(index, case) end
    end
  end
  if default ~= nil then return 0, default() end
  local waiter = sched.select_waiter()
  for index, case in ipairs(cases) do
    if case.op == "receive" then case.ch.receivers:push({ waiter = waiter, index = index })
    else case.ch.senders:push({ waiter = waiter, data = case.value, index = index }) end
  end
  local a, b = park(waiter)
  local index = waiter.taken.index
  if cases[index].op == "send" and a == false then error(b, 2) end
  return run_case(index, cases[index], a, b)
end

-- wait_group(): add([n]), done(), wait().
local WaitGroup = {}
WaitGroup.__index = WaitGroup
function sync.wait_group() return setmetatable({ count = 0, waiters = queue() }, WaitGroup) end
function WaitGroup:add(delta)
  self.count = self.count + (math.tointeger(delta or 1) or error("wait_group:add expects a whole number", 2))
  if self.count < 0 then error("negative WaitGroup counter", 2) end
  if self.count == 0 then self.waiters:wake_all(true) end
end
function WaitGroup:done() self:add(-1) end
function WaitGroup:wait()
  if self.count > 0 then self.waiters:wait() end
end

-- mutex(): lock(), unlock(), try_lock(); unlock hands the lock to the oldest waiter.
local Mutex = {}
Mutex.__index = Mutex
function sync.mutex() return setmetatable({ locked = false, waiters = queue() }, Mutex) end
function Mutex:lock()
  if not self.locked then self.locked = true; return end
  self.waiters:wait(nil, Mutex.unlock, self)
end
function Mutex:try_lock()
  if self.locked then return false end
  self.locked = true
  return true
end
function Mutex:unlock()
  if not self.locked then error("unlock of unlocked mutex", 2) end
  if not self.waiters:wake_one(true) then self.locked = false end
end

-- rwmutex(): lock()/unlock() for one writer, rlock()/runlock() for readers; a waiting writer goes first.
local RWMutex = {}
RWMutex.__index = RWMutex
function sync.rwmutex() return setmetatable({ readers = 0, writer = false, writers = queue(), readers_waiting = queue() }, RWMutex) end
function RWMutex:lock()
  if not self.writer and self.readers == 0 then self.writer = true; return end
  self.writers:wait(nil, RWMutex.unlock, self)
end
function RWMutex:try_lock()
  if self.writer or self.readers > 0 then return false end
  self.writer = true
  return true
end
function RWMutex:rlock()
  if not self.writer and not self.writers:peek() then self.readers = self.readers + 1; return end
  self.readers_waiting:wait(nil, RWMutex.runlock, self)
end
function RWMutex:try_rlock()
  if self.writer or self.writers:peek() then return false end
  self.readers = self.readers + 1
  return true
end
local function admit_readers(rw)
  while rw.readers_waiting:peek() do
    rw.readers = rw.readers + 1
    rw.readers_waiting:wake_one(true)
  end
end
function RWMutex:unlock()
  if not self.writer then error("unlock of unlocked rwmutex", 2) end
  if self.writers:wake_one(true) then return end
  self.writer = false
  admit_readers(self)
end
function RWMutex:runlock()
  if self.readers == 0 then error("runlock of unlocked rwmutex", 2) end
  self.readers = self.readers - 1
  if self.readers > 0 then return end
  if self.writers:wake_one(true) then self.writer = true else admit_readers(self) end
end

-- semaphore(n): acquire(), release(), try_acquire(), available(), capacity().
local Semaphore = {}
Semaphore.__index = Semaphore
function sync.semaphore(n)
  n = math.tointeger(n)
  if not n or n < 1 then error("goroutine.semaphore: capacity must be a whole number >= 1", 2) end
  return setmetatable({ size = n, free = n, waiters = queue() }, Semaphore)
end
function Semaphore:acquire()
  if self.free > 0 then self.free = self.free - 1; return end
  self.waiters:wait(nil, Semaphore.release, self)
end
function Semaphore:try_acquire()
  if self.free == 0 then return false end
  self.free = self.free - 1
  return true
end
function Semaphore:release()
  if self.waiters:wake_one(true) then return end
  if self.free == self.size then error("semaphore: release without acquire", 2) end
  self.free = self.free + 1
end
function Semaphore:available() return self.free end
function Semaphore:capacity() return self.size end

-- once(): call(fn) runs fn the first time only; callers meanwhile wait for it to return.
local Once = {}
Once.__index = Once
function sync.once() return setmetatable({ state = "new", waiters = queue() }, Once) end
-- A goroutine killed inside fn leaves it not done: the guard wakes the waiters and the first runs fn.
function Once:call(fn)
  while self.state == "running" do self.waiters:wait() end
  if self.state == "done" then return end
  self.state = "running"
  local guard <close> = setmetatable({}, { __close = function()
    if self.state == "running" then self.state = "new" end
    self.waiters:wake_all(true)
  end })
  local ok, err = pcall(fn)
  self.state = "done"
  if not ok then error(err, 0) end
end
Once["do"] = Once.call

-- atomic_int([v]): add(d) -> new, load/get, store/set, swap(v) -> old, compare_and_swap(old, new) -> bool.
-- Fibers switch only where they yield, so plain arithmetic is atomic here.
local Atomic = {}
Atomic.__index = Atomic
function sync.atomic_int(value) return setmetatable({ value = math.tointeger(value or 0) or 0 }, Atomic) end
function Atomic:add(delta) self.value = self.value + (math.tointeger(delta or 1) or 0); return self.value end
function Atomic:load() return self.value end
function Atomic:store(value) self.value = math.tointeger(value) or self.value end
function Atomic:swap(value) local old = self.value; self:store(value); return old end
function Atomic:compare_and_swap(old, new)
  if self.value ~= old then return false end
  self:store(new)
  return true
end
Atomic.get, Atomic.set = Atomic.load, Atomic.store

-- cond([mutex]): wait() (the caller holds the mutex), signal(), broadcast(), get_mutex().
local Cond = {}
Cond.__index = Cond
function sync.cond(mutex) return setmetatable({ mutex = mutex or sync.mutex(), waiters = queue() }, Cond) end
function Cond:get_mutex() return self.mutex end
-- Fibers switch only where they yield, so unlocking before queueing loses no signal.
function Cond:wait()
  self.mutex:unlock()
  self.waiters:wait()
  self.mutex:lock()
end
function Cond:signal() self.waiters:wake_one(true) end
function Cond:broadcast() self.waiters:wake_all(true) end

return sync

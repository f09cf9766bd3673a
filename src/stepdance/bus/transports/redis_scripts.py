"""The Lua scripts of the Redis Streams transport: each step that reads and then changes a group's state runs
as one script, so two consumers never interleave inside it. Times come from the server's clock (``TIME``),
so clients with skewed clocks agree on when a delayed message is due.

Keys: ``KEYS[1]`` the topic's stream, ``KEYS[2]`` the group's *retry* sorted set (entry id -> due time in
ms) of nacked entries. A nacked entry stays pending (in the group's PEL) until it is due; the fetch script
hands it out again then.
"""

from __future__ import annotations

_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

# ARGV: group, consumer, ack_wait_ms, count. Returns {entries, ms until the next retry is due or -1,
# the stream's last entry id or ''}. entries is ONE string (the client's parser costs per element, not per
# byte): for each entry a line ``<id> <delivery count> <length of each field item...>`` then the field
# items' bytes. Order: due retries, entries idle longer than ack_wait (their consumer died or hangs), then
# new entries. The last id (only when nothing was taken) is where a blocking XREAD waits for new entries.
FETCH = (
    """
local stream, retry = KEYS[1], KEYS[2]
local group, consumer = ARGV[1], ARGV[2]
local ack_wait, count = tonumber(ARGV[3]), tonumber(ARGV[4])
"""
    + _NOW
    + """
local out, taken = {}, 0
local function push(id, deliveries, fields)
  local head = {id, deliveries}
  for i = 1, #fields do head[#head + 1] = #fields[i] end
  out[#out + 1] = table.concat(head, ' ') .. '\\n'
  for i = 1, #fields do out[#out + 1] = fields[i] end
  taken = taken + 1
end
local function take(id, min_idle)
  local entry = redis.call('XCLAIM', stream, group, consumer, min_idle, id)[1]
  if entry then  -- a trimmed entry comes back empty and leaves the PEL
    local info = redis.call('XPENDING', stream, group, id, id, 1)[1]
    push(entry[1], info[4], entry[2])
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', retry, '-inf', now, 'LIMIT', 0, count)) do
  redis.call('ZREM', retry, id)
  take(id, 0)
end
if taken < count then
  for _, p in ipairs(redis.call('XPENDING', stream, group, 'IDLE', ack_wait, '-', '+', count - taken)) do
    if redis.call('ZSCORE', retry, p[1]) then
      -- nacked, not due yet: restart its idle clock so expiry scans do not keep meeting it
      redis.call('XCLAIM', stream, group, p[2], 0, p[1], 'JUSTID')
    else
      take(p[1], ack_wait)
    end
  end
end
if taken < count then
  local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count - taken, 'STREAMS', stream, '>')
  if read then
    for _, entry in ipairs(read[1][2]) do push(entry[1], 1, entry[2]) end
  end
end
local due, last = -1, ''
if taken == 0 then
  local first = redis.call('ZRANGE', retry, 0, 0, 'WITHSCORES')
  if first[2] then due = math.max(0, tonumber(first[2]) - now) end
  local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  last = newest and newest[1] or '0-0'
end
return {table.concat(out), due, last}
"""
)

# ARGV: group, consumer, entry id, attempt, delay_ms. Only the consumer holding this very attempt may hand
# the entry back (a nack that comes after ack_wait gave it to someone else is ignored). Returns 1 or 0.
NACK = (
    """
local stream, retry = KEYS[1], KEYS[2]
local group, consumer, id = ARGV[1], ARGV[2], ARGV[3]
local info = redis.call('XPENDING', stream, group, id, id, 1)[1]
if not info or info[2] ~= consumer or info[4] ~= tonumber(ARGV[4]) then return 0 end
"""
    + _NOW
    + """
redis.call('ZADD', retry, now + tonumber(ARGV[5]), id)
redis.call('XCLAIM', stream, group, consumer, 0, id, 'JUSTID')  -- idle clock from now
return 1
"""
)

# ARGV: the framed messages. XADDs them all to KEYS[1] (one command to send and one integer to read back,
# where a pipeline of XADDs costs the client a command and a reply per message). Returns how many.
PUBLISH = """
for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'm', ARGV[i]) end
return #ARGV
"""

# ARGV: group, consumer. A consumer with nothing pending is removed (one that holds entries stays, so they
# can still be claimed after ack_wait).
LEAVE = """
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return 0
"""

# Drop the entries every group is done with: older than each group's oldest pending entry and than its
# last delivered one. Returns how many went.
TRIM = """
local stream = KEYS[1]
local function before(a, b)
  local ams, aseq = string.match(a, '(%d+)-(%d+)')
  local bms, bseq = string.match(b, '(%d+)-(%d+)')
  ams, aseq, bms, bseq = tonumber(ams), tonumber(aseq), tonumber(bms), tonumber(bseq)
  return ams < bms or (ams == bms and aseq < bseq)
end
local floor = nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  local keep = f['last-delivered-id']
  if f['pending'] > 0 then keep = redis.call('XPENDING', stream, f['name'])[2] end
  if floor == nil or before(keep, floor) then floor = keep end
end
if floor == nil then return 0 end
return redis.call('XTRIM', stream, 'MINID', floor)
"""

/**
 * The Lua scripts of the Redis outbox. Each runs atomically on the server, so an entry's hash,
 * its status and due sets and the counters never disagree, and two runners never claim one entry.
 * Keys are derived from the prefix passed in ARGV[1] (a single Redis server or a primary with
 * replicas; Redis Cluster is not supported).
 */

/** Status bookkeeping shared by the scripts: moves an entry between status sets and counters. */
const MOVE = `
local function move(P, id, from, to, adapter, createdAt)
  if from == to then return end
  redis.call('ZREM', P .. ':ob:st:' .. from, id)
  redis.call('ZADD', P .. ':ob:st:' .. to, createdAt, id)
  redis.call('HINCRBY', P .. ':ob:counts', from .. '|' .. adapter, -1)
  redis.call('HINCRBY', P .. ':ob:counts', to .. '|' .. adapter, 1)
  redis.call('HSET', P .. ':ob:e:' .. id, 'status', to)
end
`;

/** ARGV: prefix, id, adapter, kind, payload, createdAt. Returns 1 when recorded, 0 when the id exists. */
export const ENQUEUE = `
local P = ARGV[1]
local id = ARGV[2]
local key = P .. ':ob:e:' .. id
if redis.call('EXISTS', key) == 1 then return 0 end
local adapter = ARGV[3]
local createdAt = ARGV[6]
redis.call('HSET', key, 'id', id, 'adapter', adapter, 'kind', ARGV[4], 'payload', ARGV[5],
  'createdAt', createdAt, 'status', 'pending', 'attempts', 0, 'nextAttemptAt', createdAt, 'updatedAt', createdAt)
redis.call('ZADD', P .. ':ob:all', createdAt, id)
redis.call('ZADD', P .. ':ob:st:pending', createdAt, id)
redis.call('ZADD', P .. ':ob:due:' .. adapter, createdAt, id)
redis.call('HINCRBY', P .. ':ob:counts', 'pending|' .. adapter, 1)
return 1
`;

/**
 * Claims due entries. ARGV: prefix, adapter, now, limit, owner, claimUntil. Pending entries due at
 * \`now\` that nobody else holds (no claim, a claim of this owner, or an expired claim) are
 * claimed for \`owner\` until \`claimUntil\`, ordered by nextAttemptAt, createdAt, id. Returns the
 * claimed entries as HGETALL arrays.
 */
export const CLAIM_DUE = `
local P = ARGV[1]
local dueKey = P .. ':ob:due:' .. ARGV[2]
local now = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local owner = ARGV[5]
local claimUntil = ARGV[6]
if limit <= 0 then return {} end
local picked = {}
local lastScore = nil
local offset = 0
local chunk = math.max(limit * 2, 64)
local done = false
while not done do
  local batch = redis.call('ZRANGEBYSCORE', dueKey, '-inf', now, 'WITHSCORES', 'LIMIT', offset, chunk)
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    local id = batch[i]
    local score = tonumber(batch[i + 1])
    if #picked >= limit and score ~= lastScore then done = true break end
    local h = redis.call('HMGET', P .. ':ob:e:' .. id, 'status', 'claimOwner', 'claimUntil', 'createdAt')
    if h[1] == 'pending' and ((not h[2]) or h[2] == owner or tonumber(h[3]) <= now) then
      picked[#picked + 1] = { id, score, tonumber(h[4]) }
      lastScore = score
    end
  end
  offset = offset + chunk
end
table.sort(picked, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  if a[3] ~= b[3] then return a[3] < b[3] end
  return a[1] < b[1]
end)
local out = {}
for i = 1, math.min(limit, #picked) do
  local key = P .. ':ob:e:' .. picked[i][1]
  redis.call('HSET', key, 'claimOwner', owner, 'claimUntil', claimUntil)
  out[#out + 1] = redis.call('HGETALL', key)
end
return out
`;

/**
 * The earliest time an adapter's pending entry may be taken by \`owner\`. ARGV: prefix, adapter,
 * owner, now. An entry another runner holds counts from its claim's expiry, so an idle worker
 * waits instead of spinning on entries it may not take. Returns a number or false.
 */
export const NEXT_DUE = `
local P = ARGV[1]
local dueKey = P .. ':ob:due:' .. ARGV[2]
local owner = ARGV[3]
local now = tonumber(ARGV[4])
local best = nil
local offset = 0
while true do
  local batch = redis.call('ZRANGE', dueKey, offset, offset + 63, 'WITHSCORES')
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    local score = tonumber(batch[i + 1])
    if best ~= nil and score >= best then return tostring(best) end
    local h = redis.call('HMGET', P .. ':ob:e:' .. batch[i], 'claimOwner', 'claimUntil')
    local at = score
    if h[1] and h[1] ~= owner and tonumber(h[2]) > now then at = math.max(score, tonumber(h[2])) end
    if best == nil or at < best then best = at end
    if at == score then return tostring(best) end
  end
  offset = offset + 64
end
if best == nil then return false end
return tostring(best)
`;

/**
 * Settles one entry. ARGV: prefix, id, action, now, owner, nextAttemptAt, errorJson, resultJson.
 * Actions: \`delivered\`, \`retry\`, \`dead\` apply to pending entries only (a late answer of a
 * runner whose claim was taken over never revives a settled entry; \`retry\` and \`dead\` also
 * leave alone an entry another runner holds now). Returns 1 when applied.
 */
export const SETTLE = `${MOVE}
local P = ARGV[1]
local id = ARGV[2]
local action = ARGV[3]
local now = ARGV[4]
local owner = ARGV[5]
local key = P .. ':ob:e:' .. id
local h = redis.call('HMGET', key, 'status', 'adapter', 'createdAt', 'claimOwner', 'claimUntil')
if h[1] ~= 'pending' then return 0 end
local adapter = h[2]
if action ~= 'delivered' and h[4] and h[4] ~= owner and tonumber(h[5]) > tonumber(now) then return 0 end
redis.call('HDEL', key, 'claimOwner', 'claimUntil')
redis.call('HSET', key, 'updatedAt', now)
if action == 'delivered' then
  redis.call('HSET', key, 'result', ARGV[8])
  redis.call('ZREM', P .. ':ob:due:' .. adapter, id)
  move(P, id, 'pending', 'delivered', adapter, h[3])
  return 1
end
redis.call('HINCRBY', key, 'attempts', 1)
if ARGV[7] ~= '' then redis.call('HSET', key, 'lastError', ARGV[7]) end
if action == 'retry' then
  redis.call('HSET', key, 'nextAttemptAt', ARGV[6])
  redis.call('ZADD', P .. ':ob:due:' .. adapter, ARGV[6], id)
  return 1
end
redis.call('ZREM', P .. ':ob:due:' .. adapter, id)
move(P, id, 'pending', 'dead', adapter, h[3])
return 1
`;

/**
 * Requeues or purges one entry selected by a filter, if it is still in the status it was selected
 * in. ARGV: prefix, id, action (\`requeue\` | \`purge\`), expectedStatus, now. Returns 1 when applied.
 */
export const REQUEUE_OR_PURGE = `${MOVE}
local P = ARGV[1]
local id = ARGV[2]
local action = ARGV[3]
local key = P .. ':ob:e:' .. id
local h = redis.call('HMGET', key, 'status', 'adapter', 'createdAt')
if h[1] ~= ARGV[4] then return 0 end
local adapter = h[2]
if action == 'requeue' then
  if h[1] ~= 'dead' then return 0 end
  redis.call('HSET', key, 'attempts', 0, 'nextAttemptAt', ARGV[5], 'updatedAt', ARGV[5])
  redis.call('HDEL', key, 'claimOwner', 'claimUntil')
  redis.call('ZADD', P .. ':ob:due:' .. adapter, ARGV[5], id)
  move(P, id, 'dead', 'pending', adapter, h[3])
  return 1
end
redis.call('DEL', key)
redis.call('ZREM', P .. ':ob:all', id)
redis.call('ZREM', P .. ':ob:st:' .. h[1], id)
redis.call('ZREM', P .. ':ob:due:' .. adapter, id)
redis.call('HINCRBY', P .. ':ob:counts', h[1] .. '|' .. adapter, -1)
return 1
`;

/**
 * Lua scripts of the fenced event inbox (see `redis-inbox.ts`). A token's kept answers are fields
 * of one hash (`id` → JSON events); answers kept by a runner that no longer holds the token's lease
 * are also listed for the holder (`late`). The lease check is the one of the fenced cursor write:
 * the lease field `owner|expiresAt|fence` names this runner with this fence, not released.
 */

/** Shared lease check: `held` is true when ARGV[owner] holds the lease with ARGV[fence]. */
const HELD = `
local function held(leases, tid, owner, fence)
  local cur = redis.call('HGET', leases, tid)
  if not cur then return false end
  local holder, expires, f = string.match(cur, '^(.*)|([0-9]+)|([0-9]+)$')
  return holder == owner and f == fence and expires ~= '0'
end
`;

/**
 * Keeps one answer. KEYS: answers hash, late list, leases hash. ARGV: tokenId, owner, fence, id,
 * events JSON. Returns -1 when the id is taken (the caller picks the next), 1 when kept by the
 * lease holder, 0 when kept for the next holder (listed as late).
 */
export const INBOX_KEEP = `${HELD}
if redis.call('HSETNX', KEYS[1], ARGV[4], ARGV[5]) == 0 then return -1 end
if held(KEYS[3], ARGV[1], ARGV[2], ARGV[3]) then return 1 end
redis.call('RPUSH', KEYS[2], ARGV[4])
return 0
`;

/**
 * Releases answers saved in the holder's snapshot, only while it holds the lease (a runner that
 * lost the token leaves them to the next holder). KEYS: answers hash, leases hash. ARGV: tokenId,
 * owner, fence, then the ids. Returns 1 when released, 0 when refused.
 */
export const INBOX_RELEASE = `${HELD}
if not held(KEYS[2], ARGV[1], ARGV[2], ARGV[3]) then return 0 end
for i = 4, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return 1
`;

/**
 * Takes a token's answers for its lease holder: the late list (kept for it by another runner since
 * it last looked) or, with ARGV[4] = 'all', every kept answer (the late list is emptied: they are
 * among them). Nothing for a runner that does not hold the lease. KEYS: answers hash, late list,
 * leases hash. ARGV: tokenId, owner, fence, 'all' | 'late'. Returns a flat list id, events, …
 */
export const INBOX_TAKE = `${HELD}
if not held(KEYS[3], ARGV[1], ARGV[2], ARGV[3]) then return {} end
local ids
if ARGV[4] == 'all' then
  ids = redis.call('HKEYS', KEYS[1])
else
  ids = redis.call('LRANGE', KEYS[2], 0, -1)
end
redis.call('DEL', KEYS[2])
local out = {}
for _, id in ipairs(ids) do
  local events = redis.call('HGET', KEYS[1], id)
  if events then
    out[#out + 1] = id
    out[#out + 1] = events
  end
end
return out
`;

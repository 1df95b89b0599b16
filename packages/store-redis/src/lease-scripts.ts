/**
 * Lua scripts of the token leases. A lease is a field of one hash: `tokenId` →
 * `owner|expiresAt|fence`. Fencing numbers come from one counter, so each new holder of a token
 * has a larger number than every holder before it.
 */

/**
 * Acquires, renews or releases leases in one atomic step. ARGV: prefix, owner, now, leaseMs, then
 * triples (op, tokenId, fence) with op `a` (acquire: free, expired or already ours), `r` (renew:
 * still ours with this fence, even if expired, as nobody took it since) or `x` (release). Returns
 * one number per triple: the fence held after the step, 0 when refused or released.
 *
 * Taking over the lease of a runner that died (expired, not released), the script also copies that
 * runner's tracker snapshot (`snap:tracker:<runner>`) to `snap:handover-src:<tokenId>`, unless a
 * copy is there already (a takeover not yet settled): the token's calls in flight then survive the
 * new holder dying before it saved them, and the dead runner's restart rewriting its snapshot. The
 * new holder deletes the copy once its own snapshot has the calls.
 */
export const LEASES = `
local P = ARGV[1]
local owner = ARGV[2]
local now = tonumber(ARGV[3])
local leaseMs = tonumber(ARGV[4])
local leases = P .. ':cluster:leases'
local out = {}
for i = 5, #ARGV, 3 do
  local op = ARGV[i]
  local tid = ARGV[i + 1]
  local fence = tonumber(ARGV[i + 2])
  local cur = redis.call('HGET', leases, tid)
  local holder, expires, held = nil, 0, 0
  if cur then
    local a, b = string.find(cur, '|', 1, true)
    local c, d = string.find(cur, '|', b + 1, true)
    holder = string.sub(cur, 1, a - 1)
    expires = tonumber(string.sub(cur, b + 1, c - 1))
    held = tonumber(string.sub(cur, d + 1))
  end
  local result = 0
  if op == 'a' then
    if holder == owner and expires > now then
      result = held
    elseif holder == nil or expires <= now then
      result = redis.call('INCR', P .. ':cluster:fence')
      if holder ~= nil and holder ~= owner and expires ~= 0 then
        local copy = P .. ':snap:handover-src:' .. tid
        if redis.call('EXISTS', copy) == 0 then
          local snapshot = redis.call('GET', P .. ':snap:tracker:' .. holder)
          if snapshot then redis.call('SET', copy, snapshot) end
        end
      end
    end
  elseif op == 'r' then
    if holder == owner and held == fence then result = held end
  elseif op == 'x' then
    -- Released, not deleted: the next holder sees who had it and that it was handed over.
    if holder == owner and held == fence then
      redis.call('HSET', leases, tid, owner .. '|0|' .. tostring(held))
    end
  end
  if result ~= 0 then
    redis.call('HSET', leases, tid, owner .. '|' .. tostring(now + leaseMs) .. '|' .. tostring(result))
  end
  out[#out + 1] = result
end
return out
`;

/**
 * Writes a token's stream cursor only while the writer holds the token's lease with this fence,
 * so a runner that lost the token can never move the shared cursor back. ARGV: prefix, owner,
 * tokenId, fence, cursorKey, session. Returns 1 when written.
 */
export const FENCED_SET = `
local cur = redis.call('HGET', ARGV[1] .. ':cluster:leases', ARGV[3])
if not cur then return 0 end
local holder, expires, fence = string.match(cur, '^(.*)|([0-9]+)|([0-9]+)$')
if holder ~= ARGV[2] or fence ~= ARGV[4] or expires == '0' then return 0 end
redis.call('SET', ARGV[5], ARGV[6])
return 1
`;

-- Extend: reset the TTL of KEYS[1] to ARGV[2] ms only if it still holds the owner ARGV[1].
-- Returns 1 if extended.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0

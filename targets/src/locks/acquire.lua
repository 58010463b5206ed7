-- Acquire: KEYS[1] the lock, KEYS[2] its fencing counter; ARGV[1] the owner, ARGV[2] the TTL
-- in milliseconds. Returns the fencing token (the counter after INCR), or 0 if the lock is
-- held by someone else.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0

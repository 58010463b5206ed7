-- Release: delete KEYS[1] only if it still holds the owner ARGV[1]. Returns 1 if deleted.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

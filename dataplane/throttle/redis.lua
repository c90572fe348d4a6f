-- Turnpike's shared token buckets and quota counters (dataplane/throttle/redis.go).
--
-- One call decides one request, atomically (Redis runs a script alone):
-- every bucket and the quota are checked first, and only if all admit does
-- each bucket give one token and the quota count one. The arithmetic is the
-- integer arithmetic of bucket.go and period.go, line for line; every
-- intermediate value stays below 2^53, so Lua's doubles are exact.
--
-- KEYS:  the bucket keys (ARGV[3] of them), then the quota key if any.
-- ARGV:  [1] mode: "take" (decide a request) or "usage" (read the quota key)
--        [2] now in microseconds, or "" for Redis TIME (tests pin the clock)
--        [3] n, the number of buckets
--        [4 .. 3+2n] rate, burst of each bucket
--        then, with a quota: limit, period (0 DAY, 1 WEEK, 2 MONTH), offset
-- Reply: {verdict (0 allowed, 1 throttled, 2 quota exceeded),
--         retry after in microseconds, 1-based index of the refusing bucket,
--         quota used (-1 without a quota), microseconds to the period's end}
-- State: a bucket is a hash {t = micro-tokens, l = last refill in µs}; a
-- missing bucket is a full one, so a bucket expires once it would be full
-- again. A quota is a hash {p = first day of its period, n = count}; it
-- expires after its period.

local UNIT = 1000000
local NEVER = 60 * UNIT          -- bucket.go neverRetry
local IDLE_ZERO_RATE = 7 * 86400 -- seconds an untouched rate-0 bucket is kept
local DAY = 86400 * UNIT

local function floor_div(a, b) return math.floor(a / b) end

-- days_from_civil and civil_from_days: proleptic Gregorian calendar
-- (H. Hinnant's algorithms), days counted from 1970-01-01.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor_div(y, 400)
  local yoe = y - era * 400
  local mp = (m > 2) and (m - 3) or (m + 9)
  local doy = floor_div(153 * mp + 2, 5) + d - 1
  local doe = yoe * 365 + floor_div(yoe, 4) - floor_div(yoe, 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = floor_div(z, 146097)
  local doe = z - era * 146097
  local yoe = floor_div(doe - floor_div(doe, 1460) + floor_div(doe, 36524) - floor_div(doe, 146096), 365)
  local doy = doe - (365 * yoe + floor_div(yoe, 4) - floor_div(yoe, 100))
  local mp = floor_div(5 * doy + 2, 153)
  local d = doy - floor_div(153 * mp + 2, 5) + 1
  local m = (mp < 10) and (mp + 3) or (mp - 9)
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end

-- period_bounds is period.go PeriodBounds: the first day of the period that
-- contains day, and the first day of the next one.
local function period_bounds(day, period, offset)
  if period == 1 then
    local back = ((day + 4) % 7 - offset + 7) % 7 -- 1970-01-01 was a Thursday (4)
    return day - back, day - back + 7
  elseif period == 2 then
    local first = offset + 1
    local y, m, d = civil_from_days(day)
    if d < first then
      m = m - 1
      if m == 0 then y, m = y - 1, 12 end
    end
    local ny, nm = y, m + 1
    if nm == 13 then ny, nm = y + 1, 1 end
    return days_from_civil(y, m, first), days_from_civil(ny, nm, first)
  end
  return day, day + 1
end

-- refill is bucket.go refill: tokens == nil is a new (full) bucket.
local function refill(tokens, last, now, rate, burst)
  local cap = burst * UNIT
  if tokens == nil then return cap, now end
  local elapsed = math.max(now - last, 0)
  local need = cap - tokens
  if need <= 0 then
    tokens = cap
  elseif rate > 0 then
    if elapsed >= floor_div(need + rate - 1, rate) then
      tokens = cap
    else
      tokens = tokens + elapsed * rate
    end
  end
  return tokens, math.max(now, last)
end

-- retry_after is bucket.go retryAfter, in microseconds.
local function retry_after(tokens, rate, burst)
  if tokens >= UNIT then return 0 end
  if rate <= 0 or burst <= 0 then return NEVER end
  return floor_div(UNIT - tokens + rate - 1, rate)
end

local function num(x) return string.format('%.0f', x) end

local now = tonumber(ARGV[2])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * UNIT + tonumber(t[2])
end
local n = tonumber(ARGV[3])
local has_quota = #KEYS > n
local limit, period, offset
if has_quota then
  limit, period, offset = tonumber(ARGV[4 + 2 * n]), tonumber(ARGV[5 + 2 * n]), tonumber(ARGV[6 + 2 * n])
end

local used, reset, qstart, qend = -1, 0, 0, 0
if has_quota then
  qstart, qend = period_bounds(floor_div(now, DAY), period, offset)
  reset = qend * DAY - now
  local q = redis.call('HMGET', KEYS[n + 1], 'p', 'n')
  used = 0
  if tonumber(q[1]) == qstart then used = tonumber(q[2]) or 0 end
end
if ARGV[1] == 'usage' then return {0, 0, 0, used, reset} end

local tokens, lasts = {}, {}
local retry, refuser = 0, 0
for i = 1, n do
  local rate, burst = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local s = redis.call('HMGET', KEYS[i], 't', 'l')
  tokens[i], lasts[i] = refill(tonumber(s[1]), tonumber(s[2]), now, rate, burst)
  local ra = retry_after(tokens[i], rate, burst)
  if ra > retry then retry, refuser = ra, i end
end
if retry > 0 then return {1, retry, refuser, used, reset} end
if has_quota and used >= limit then return {2, reset, 0, used, reset} end

for i = 1, n do
  local rate, burst = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local left = tokens[i] - UNIT
  redis.call('HSET', KEYS[i], 't', num(left), 'l', num(lasts[i]))
  if rate > 0 then
    -- full again after ceil(missing/rate) µs; expire then, plus a second.
    local full_in = floor_div(burst * UNIT - left + rate - 1, rate)
    redis.call('PEXPIRE', KEYS[i], num(floor_div(full_in + 999, 1000) + 1000))
  else
    redis.call('EXPIRE', KEYS[i], IDLE_ZERO_RATE)
  end
end
if has_quota then
  used = used + 1
  redis.call('HSET', KEYS[n + 1], 'p', num(qstart), 'n', num(used))
  -- kept a minute past the period's end, for usage reports near the edge
  redis.call('PEXPIRE', KEYS[n + 1], num(floor_div(reset + 999, 1000) + 60000))
end
return {0, 0, 0, used, reset}

-- wrk script for large key spaces: GET /v1/robots/{id} over ROBOTS ids (default 1,000,000), either uniform
-- (DIST=uniform) or Zipf with exponent ZIPF_S (DIST=zipf, default s = 1.0) whose ranks are scattered over the ids by
-- a multiplicative permutation (rank r -> (r * SCATTER) mod ROBOTS + 1; SCATTER coprime with ROBOTS), so that the
-- popular robots are not ids 1..k. Counts the 200s exactly and the responses per wall-clock second (the series shows
-- stalls), and prints one machine-readable line at the end.
local robots = tonumber(os.getenv("ROBOTS") or "1000000")
local dist = os.getenv("DIST") or "uniform"
local s = tonumber(os.getenv("ZIPF_S") or "1.0")
local scatter = tonumber(os.getenv("SCATTER") or "611953")
local cdf = nil
ok = 0
statuses = 0
seconds = {}

local threads_list = {}

-- Every run its own sequence: LuaJIT's generator starts from the same state in every process, so without this a run
-- replayed the ids of the run before it (the warm-up), and a cache that kept them looked better than it is.
local function urandom_seed()
  local f = assert(io.open("/dev/urandom", "rb"))
  local b1, b2, b3, b4 = f:read(4):byte(1, 4)
  f:close()
  return ((b1 * 256 + b2) * 256 + b3) * 128 + b4 % 128
end

setup = function(thread)
  math.randomseed(urandom_seed())
  thread:set("seed", math.random(1, 2147483646))
  table.insert(threads_list, thread)
end

init = function(args)
  math.randomseed(seed)
  if dist == "zipf" then
    cdf = {}
    local total = 0
    for r = 1, robots do
      total = total + 1 / (r ^ s)
      cdf[r] = total
    end
    for r = 1, robots do
      cdf[r] = cdf[r] / total
    end
  end
end

local function zipf_rank()
  local u = math.random()
  local lo, hi = 1, robots
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

request = function()
  local id
  if dist == "zipf" then
    id = (zipf_rank() * scatter) % robots + 1
  else
    id = math.random(1, robots)
  end
  return wrk.format("GET", "/v1/robots/" .. id)
end

response = function(status, headers, body)
  if status == 200 then ok = ok + 1 else statuses = statuses + 1 end
  local t = os.time()
  seconds[t] = (seconds[t] or 0) + 1
end

done = function(summary, latency, requests)
  local e = summary.errors
  local oks, others, per = 0, 0, {}
  for _, thread in ipairs(threads_list) do
    oks = oks + thread:get("ok")
    others = others + thread:get("statuses")
    for t, n in pairs(thread:get("seconds")) do per[t] = (per[t] or 0) + n end
  end
  local keys = {}
  for t in pairs(per) do table.insert(keys, t) end
  table.sort(keys)
  local series = {}
  for _, t in ipairs(keys) do table.insert(series, tostring(per[t])) end
  io.write(string.format(
    'WRKJSON {"ok":%d,"other_status":%d,"per_second":[%s],"requests":%d,"duration_us":%d,"err_connect":%d,' ..
    '"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    oks, others, table.concat(series, ","), summary.requests, summary.duration, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end

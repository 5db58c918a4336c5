-- wrk script: GET /v1/robots/{random id of ROBOTS} (default 100), and one machine-readable line at the end with
-- exact counts and latency percentiles in microseconds. WRK_PATH fixes one path instead (e.g. /healthz for the ceiling).
local robots = tonumber(os.getenv("ROBOTS") or "100")
local path = os.getenv("WRK_PATH")

-- Each run its own sequence (LuaJIT's generator starts from the same state in every process; see skewed_robot.lua).
local function urandom_seed()
  local f = assert(io.open("/dev/urandom", "rb"))
  local b1, b2, b3, b4 = f:read(4):byte(1, 4)
  f:close()
  return ((b1 * 256 + b2) * 256 + b3) * 128 + b4 % 128
end

setup = function(thread)
  math.randomseed(urandom_seed())
  thread:set("seed", math.random(1, 2147483646))
end

init = function(args)
  math.randomseed(seed)
end

request = function()
  if path then
    return wrk.format("GET", path)
  end
  return wrk.format("GET", "/v1/robots/" .. math.random(1, robots))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end

-- wrk script: GET /v1/robots/{random id of ROBOTS} (default 100), and one machine-readable line at the end with
-- exact counts and latency percentiles in microseconds. WRK_PATH fixes one path instead (e.g. /healthz for the ceiling).
local robots = tonumber(os.getenv("ROBOTS") or "100")
local path = os.getenv("WRK_PATH")

setup = function(thread)
  thread:set("seed", math.random(1, 1000000))
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

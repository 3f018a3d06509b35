-- wrk script: GET /api/v1/facilitators/{id}, a random id from a file per request.
--   wrk -t2 -c8 -d15s --latency -s bench/get_by_id.lua http://127.0.0.1:PORT -- IDS_FILE TOKEN
-- Prints one "WRK ..." line with the figures scripts/bench reads.

local ids = {}
local headers = {}
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  assert(#ids > 0, "no ids in " .. args[1])
  headers["Authorization"] = "Bearer " .. args[2]
  headers["Accept"] = "application/json"
  math.randomseed(os.time() * 7919 + (thread_no or 0) * 104729)
end

function request()
  return wrk.format("GET", "/api/v1/facilitators/" .. ids[math.random(#ids)], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout))
end

-- wrk script: PATCH /api/v1/facilitators/{id} with If-Match, each request on a
-- supplier of its own thread's share, round robin over many suppliers, so no two
-- requests in flight touch one supplier; the version comes from each answer.
--   wrk -t2 -c8 -d15s --latency -s bench/patch.lua http://127.0.0.1:PORT -- FILE TOKEN
-- FILE: one "id version" line per supplier. Prints one "WRK ..." line, as random_get.lua does.

local ids, versions = {}, {}
local headers = {}
local threads, counter, next_index = 0, 0, 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  local all = {}
  for line in io.lines(args[1]) do
    local id, version = line:match("^(%S+)%s+(%d+)$")
    if id then all[#all + 1] = { id, tonumber(version) } end
  end
  -- this thread's share: every other line (the bench runs at most two threads), so threads never share a supplier
  local n = 2
  for i = thread_no, #all, n do
    ids[#ids + 1] = all[i][1]
    versions[all[i][1]] = all[i][2]
  end
  assert(#ids > 0, "no suppliers for thread " .. tostring(thread_no))
  headers["Authorization"] = "Bearer " .. args[2]
  headers["Content-Type"] = "application/json"
  headers["Accept"] = "application/json"
end

function request()
  next_index = next_index % #ids + 1
  counter = counter + 1
  local id = ids[next_index]
  headers["If-Match"] = '"' .. versions[id] .. '"'
  return wrk.format("PATCH", "/api/v1/facilitators/" .. id, headers, '{"notes": "bench write ' .. counter .. '"}')
end

function response(status, hdrs, body)
  if status == 200 then
    local id = body:match('"id"%s*:%s*"([0-9a-f%-]+)"')
    local version = hdrs["ETag"] or hdrs["etag"]
    if id and version then versions[id] = tonumber(version:match("%d+")) end
  end
end

-- done(): the shared "WRK ..." reporter
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")

-- wrk script: GET a random path per request, built from one line of a file.
--   wrk -t2 -c8 -d15s --latency -s bench/random_get.lua http://127.0.0.1:PORT -- FILE TOKEN KIND
-- KIND "id":     FILE holds supplier ids  -> GET /api/v1/facilitators/{id}
-- KIND "search": FILE holds search texts  -> GET /api/v1/facilitators?q=TEXT&limit=20
-- KIND "me":     FILE is not read per line -> GET /api/v1/me (no database work)
-- KIND "list":   FILE holds query strings -> GET /api/v1/facilitators?QUERY (a list filtered by the agency's cooperation)
-- KIND "healthz": FILE is not read per line -> GET /healthz (no authentication, no database)
-- Prints one "WRK ..." line with the figures scripts/bench reads (percentiles computed here).

local paths = {}
local headers = {}
local threads = 0

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local builders = {
  id = function(line) return "/api/v1/facilitators/" .. line end,
  search = function(line) return "/api/v1/facilitators?q=" .. urlencode(line) .. "&limit=20" end,
  me = function(line) return "/api/v1/me" end,
  list = function(line) return "/api/v1/facilitators?" .. line end,
  healthz = function(line) return "/healthz" end,
}

function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  local build = assert(builders[args[3]], "KIND must be id, search, me, list or healthz, not " .. tostring(args[3]))
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = build(line) end
  end
  assert(#paths > 0, "no lines in " .. args[1])
  headers["Authorization"] = "Bearer " .. args[2]
  headers["Accept"] = "application/json"
  math.randomseed(os.time() * 7919 + (thread_no or 0) * 104729)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

-- done(): the shared "WRK ..." reporter
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")

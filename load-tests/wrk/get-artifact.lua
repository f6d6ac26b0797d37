-- get: GET /api/v1/artifacts/{id} of a random seeded artifact, as the load-test tool's get scenario.
-- Arguments (after --): the first and the last seeded id.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  first_id = tonumber(args[1]) or 1
  last_id = tonumber(args[2]) or first_id
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

function request()
  return wrk.format("GET", "/api/v1/artifacts/" .. math.random(first_id, last_id))
end

-- write: POST /api/v1/artifacts with a new body every request (unique agent name and content),
-- the same shape and size as the load-test tool's write scenario: specs spread over 50 per thread,
-- stages in turn, three agents per run timestamp.
-- Arguments (after --): a tag that keeps this run's names apart, and the base run timestamp (Unix ms).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local stages = { "spec-plan", "spec-tasks", "spec-implement", "spec-validate", "spec-audit", "spec-unlock" }
local filler = "Plan: storage engine first, then the HTTP surface; tests beside each step; no open questions."
local threads = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  tag = args[1] or tostring(os.time())
  base_timestamp = tonumber(args[2]) or os.time() * 1000
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local id = thread_id or 0
  local body = string.format(
    '{"specId":"LT-WRK-%s-%d-%d","stage":"%s","agentName":"wrk-%s-%d-%d",' ..
    '"content":{"kind":"write","user":%d,"iteration":%d,"text":"%s"},"modelVersion":"load-test-1","runTimestamp":%d}',
    tag, id, counter % 50, stages[math.floor(counter / 3) % #stages + 1], tag, id, counter,
    id, counter, filler, base_timestamp + math.floor(counter / 3))
  return wrk.format(nil, "/api/v1/artifacts", nil, body)
end

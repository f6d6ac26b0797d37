-- read: GET the newest 50 artifacts of the seeded stage, as the load-test tool's read scenario.
-- The path comes with the URL (/api/v1/specs/{specId}/stages/{stage}/artifacts?limit=50).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

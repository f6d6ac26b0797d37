-- ceiling: GET /health/live (no database), the same-run reference for every other endpoint.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

-- One wrk script for every Launchproof request in load/ceiling.py, configured by environment:
--   LP_METHOD   GET (default) or POST
--   LP_PATHS    comma-separated request paths, used round-robin (one connection may rotate
--               over many conversations so no single conversation becomes the bottleneck);
--               unset: the path of the URL given to wrk
--   LP_BODY     request body for POST (JSON); "{n}" is replaced by a request counter
--   LP_COOKIE   "name=value" session cookie (sent by hand: plain http on loopback)
--   LP_ORIGIN   Origin header (same-origin, as a browser sends it; CSRF checks it)
--   LP_ACCEPT   Accept header (default application/json)
--   LP_XFF      X-Forwarded-For value (the load stack trusts 127.0.0.1 as a proxy)
--   LP_DELAY_MS pause before each request on a connection (the attacker's pace), 0 = none
--   LP_REPORT   file to write the JSON summary to (latency in microseconds, status counts)
local method = os.getenv("LP_METHOD") or "GET"
local body = os.getenv("LP_BODY")
local delay_ms = tonumber(os.getenv("LP_DELAY_MS") or "0")
local paths = {}
for path in string.gmatch(os.getenv("LP_PATHS") or "", "[^,]+") do
  paths[#paths + 1] = path
end

local headers = { ["Accept"] = os.getenv("LP_ACCEPT") or "application/json" }
if os.getenv("LP_COOKIE") then headers["Cookie"] = os.getenv("LP_COOKIE") end
if os.getenv("LP_ORIGIN") then headers["Origin"] = os.getenv("LP_ORIGIN") end
if os.getenv("LP_XFF") then headers["X-Forwarded-For"] = os.getenv("LP_XFF") end
if body then headers["Content-Type"] = "application/json" end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

local counter = 0
statuses = {}

function request()
  counter = counter + 1
  local path = wrk.path
  if #paths > 0 then path = paths[(counter % #paths) + 1] end
  local payload = nil
  if body then payload = string.gsub(body, "{n}", tostring(counter)) end
  return wrk.format(method, path, headers, payload)
end

function response(status, _headers, _body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, _requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for key, value in pairs(counts) do merged[key] = (merged[key] or 0) + value end
  end
  local parts = {}
  for key, value in pairs(merged) do parts[#parts + 1] = string.format('"%s": %d', key, value) end
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "socket_errors": %d, "statuses": {%s}}',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", "))
  local report = os.getenv("LP_REPORT")
  if report then
    local file = io.open(report, "w")
    file:write(out)
    file:close()
  end
  io.write(out .. "\n")
end

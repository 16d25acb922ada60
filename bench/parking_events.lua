-- wrk script: POST pre-made JSON bodies, one line of a file per request, each from a client address of its own
-- (X-Forwarded-For, behind one trusted proxy). Written by bench/parking_events.py.
-- Usage: wrk ... -s bench/parking_events.lua <url> -- <prefix> <first octet> <cycle 0|1> [api key]
-- Thread t sends the lines of <prefix>-<t>.jsonl in order: once (cycle 0; a thread that has sent them all sends
-- GET /exhausted, a 404, and counts it) or round and round (cycle 1). At the end <prefix>-summary.json gets
-- wrk's exact counts: responses, socket errors, statuses of 400 and above, and the exhausted requests.
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads)
end

function init(args)
  prefix, bodies, sent, exhausted = args[1], {}, 0, 0
  for line in io.lines(prefix .. "-" .. thread_id .. ".jsonl") do
    bodies[#bodies + 1] = line
  end
  octet, cycle = tonumber(args[2]) + thread_id, args[3] == "1"
  -- wrk calls the first thread's request() once right after init to check the request (script_verify_request)
  -- and throws the answer away: that call must not use up a line.
  verifying = thread_id == 1
  headers = {["Content-Type"] = "application/json"}
  if args[4] and args[4] ~= "" then
    headers["Authorization"] = "Bearer " .. args[4]
  end
end

function request()
  if verifying then
    verifying = false
    return wrk.format("POST", nil, headers, bodies[1])
  end
  sent = sent + 1
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", octet, math.floor(sent / 256) % 256, sent % 256)
  if sent > #bodies and not cycle then
    exhausted = exhausted + 1
    return wrk.format("GET", "/exhausted", headers)
  end
  return wrk.format("POST", nil, headers, bodies[(sent - 1) % #bodies + 1])
end

function done(summary, latency, requests)
  local left_over = 0
  for _, thread in ipairs(threads) do
    left_over = left_over + thread:get("exhausted")
  end
  local errors = summary.errors
  local out = io.open(threads[1]:get("prefix") .. "-summary.json", "w")
  out:write(string.format('{"responses": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
                          '"status": %d, "exhausted": %d}\n', summary.requests, errors.connect, errors.read,
                          errors.write, errors.timeout, errors.status, left_over))
  out:close()
end

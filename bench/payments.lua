-- wrk script: POST a JSON body with a unique reference and Idempotency-Key on every request.
-- Usage: wrk ... -s bench/payments.lua <url> -- <prefix>; keys are k-<prefix>-<thread>-<n>.
local counter, prefix, threads = 0, "run", 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  prefix = args[1] or "run"
end

function request()
  counter = counter + 1
  local id = prefix .. "-" .. (thread_id or 0) .. "-" .. counter
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Idempotency-Key"] = "k-" .. id},
                    '{"reference": "' .. id .. '"}')
end

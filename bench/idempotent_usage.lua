-- wrk script: POST /usage/api_calls/ with a new idempotency key each time (each call stores
-- one key), the secret key in SIMA_KEY. api_calls is a soft limit: FREE can do this forever.
counter = 0
tag = nil
function setup(thread)
  counter = counter + 1
  thread:set("tag", tostring(counter) .. "-" .. tostring(math.random(1, 1000000000)))
end
function init(args)
  tag = tag or "t"
end
function request()
  counter = counter + 1
  local body = '{"idempotency_key":"k-' .. tag .. '-' .. counter .. '"}'
  return wrk.format("POST", "/usage/api_calls/",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("SIMA_KEY")},
    body)
end

-- wrk script: limit-checked POST /invoices/ with the secret key in SIMA_KEY, spread over the
-- sima-servers whose ports are in SIMA_PORTS ("18080 18081 18082"): wrk thread i talks to
-- server i mod n, so with one connection per thread the servers share the load evenly and
-- wrk keeps one latency histogram for all of them.
local addrs = {}
for port in string.gmatch(os.getenv("SIMA_PORTS") or "", "%d+") do
  table.insert(addrs, wrk.lookup("127.0.0.1", port)[1])
end
local started = 0

function setup(thread)
  if #addrs > 0 then
    thread.addr = addrs[started % #addrs + 1]
  end
  started = started + 1
end

wrk.method = "POST"
wrk.path = "/invoices/"
wrk.body = '{"amount_paisa":250000,"description":"wrk load test"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SIMA_KEY")

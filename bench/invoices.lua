-- wrk script: limit-checked POST /invoices/ with the secret key in SIMA_KEY.
wrk.method = "POST"
wrk.path = "/invoices/"
wrk.body = '{"amount_paisa":250000,"description":"wrk load test"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SIMA_KEY")

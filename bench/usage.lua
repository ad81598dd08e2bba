-- wrk script: GET /billing/usage/ with the secret key in SIMA_KEY.
wrk.method = "GET"
wrk.path = "/billing/usage/"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SIMA_KEY")

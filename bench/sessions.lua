-- wrk script: POST /sessions/ (mint a browser session) with the secret key in SIMA_KEY.
wrk.method = "POST"
wrk.path = "/sessions/"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SIMA_KEY")

-- wrk script: a cross-origin GET forwarded to the bucket.
wrk.method = "GET"
wrk.headers["Origin"] = "https://app.example.com"

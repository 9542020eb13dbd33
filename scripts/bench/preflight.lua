-- wrk script: a browser preflight (OPTIONS with Origin and the
-- Access-Control-Request-* headers) that the rules allow.
wrk.method = "OPTIONS"
wrk.headers["Origin"] = "https://app.example.com"
wrk.headers["Access-Control-Request-Method"] = "PUT"
wrk.headers["Access-Control-Request-Headers"] = "content-type, x-amz-date"

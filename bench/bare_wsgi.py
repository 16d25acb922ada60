"""The baseline: the smallest WSGI app that answers like /healthz, with no framework at all."""

BODY = b'{"status":"ok"}\n'


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]

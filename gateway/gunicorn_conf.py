"""gunicorn settings used by ``python -m gateway serve``: gunicorn's own lines as JSON too."""

#: Our app writes one JSON access line per request itself; gunicorn's plain access log would repeat it.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "web.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
#: Finish in-flight requests on SIGTERM before exiting.
graceful_timeout = 30
#: Threaded workers (``--threads`` per worker): a connection on which no request arrives (a browser's
#: preconnect, a slow client) holds one thread for at most 5 s, then waits in the worker's poller, while the
#: other threads serve. A sync worker blocks reading it: two idle connections stopped the two workers of
#: `make run` answering anyone (tests/gateway/test_serve_idle_connections.py).
worker_class = "gthread"
#: Seconds a kept-alive connection may idle between requests. gunicorn's default (2 s) closes connections
#: that a balancer or a client's pool is about to reuse, and the request sent into the closing socket fails;
#: the balancer in front must close first, so its idle timeout stays below this (nginx and most cloud
#: balancers default to 60 s). Idle connections wait in the gthread worker's poller, not in a thread.
keepalive = 75

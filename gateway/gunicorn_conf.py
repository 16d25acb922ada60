"""gunicorn settings used by ``python -m gateway serve``: gunicorn's own lines as JSON too."""

#: Our app writes one JSON access line per request itself; gunicorn's plain access log would repeat it.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "gateway.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
#: Finish in-flight requests on SIGTERM before exiting.
graceful_timeout = 30

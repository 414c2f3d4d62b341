"""Gunicorn's logger, quiet about successful health probes and in JSON lines when LOG_FORMAT=json."""

from __future__ import annotations

import os

from gunicorn import glogging

from otpsite.json_log_formatter import JsonLinesFormatter


class Logger(glogging.Logger):
    """Log like gunicorn, minus a line for every successful /healthz probe."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if os.environ.get("LOG_FORMAT") == "json":
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonLinesFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        # A probe every few seconds would bury the real traffic; failed probes are still logged.
        if environ.get("PATH_INFO") == "/healthz" and str(resp.status).startswith("200"):
            return
        super().access(resp, req, environ, request_time)

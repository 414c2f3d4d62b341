"""Gunicorn's logger: quiet about successful health probes, no admin query values, JSON lines if LOG_FORMAT=json."""

from __future__ import annotations

import os
from urllib.parse import parse_qsl

from gunicorn import glogging

from otpsite.json_log_formatter import JsonLinesFormatter

ADMIN_PATH = "/admin/"
HIDDEN = "[hidden]"


class Logger(glogging.Logger):
    """Log like gunicorn, minus a line for every successful /healthz probe and the values of admin queries."""

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

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        query = environ.get("QUERY_STRING", "")
        if query and environ.get("PATH_INFO", "").startswith(ADMIN_PATH):
            # Staff search the admin by full phone number (?q=+33..., also inside ?next= and
            # _changelist_filters): the access log keeps which parameters were sent, not their values.
            hidden = "&".join(f"{name}={HIDDEN}" for name, _ in parse_qsl(query, keep_blank_values=True))
            path = environ.get("RAW_URI", "").partition("?")[0]
            atoms["q"] = hidden
            atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path}?{hidden} {environ.get('SERVER_PROTOCOL')}"
        return atoms

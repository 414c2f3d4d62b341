"""Logging filters of the site."""

from __future__ import annotations

import logging


class OneLineWarning(logging.Filter):
    """Turn a record into one WARNING line without a traceback.

    For django.security: an oversized body, too many fields or a bad Host header is the client's doing.
    Anyone can send them by the thousand, so each must not be an ERROR with a traceback that floods
    the log and pages whoever watches for errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = record.stack_info = None
        return True

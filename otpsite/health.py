"""GET /healthz: whether this instance can serve, for load balancers and monitors.

`503` only when it cannot: the database is unreachable, or (SQLite) its write lock is held for longer
than HEALTHZ_WRITE_LOCK_SECONDS, so every send would queue behind it. A shared cache (Redis) that cannot
be reached makes the answer `200` with `"cache": "degraded"`: the send limits count in the database
meanwhile, so pulling every host out of the load balancer would turn a cache outage into a site outage.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

#: Caches that live inside the process: nothing to reach, so nothing to check.
_IN_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


class WriteLockBusy(Exception):
    """SQLite's write lock stayed taken for longer than the bound."""


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    if connection.vendor == "sqlite":
        _sqlite_write_lock()


def _sqlite_write_lock() -> None:
    """Take and release SQLite's write lock, waiting at most HEALTHZ_WRITE_LOCK_SECONDS for it."""
    bound = settings.HEALTHZ_WRITE_LOCK_SECONDS
    bound_ms = round(bound * 1000)
    # The app's engine (verification.db.sqlite3) bounds the wait in its write queue too; Django's, the busy timeout.
    waiting = getattr(connection, "waiting_at_most", None)
    try:
        with waiting(bound) if waiting else _busy_timeout(bound_ms):
            # The site's transactions are IMMEDIATE: this one waits for the write lock like a send would.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT 1")
    except Exception as exc:
        if "locked" in str(exc):
            raise WriteLockBusy(f"write lock held for over {bound_ms} ms") from exc
        raise


@contextlib.contextmanager
def _busy_timeout(bound_ms: int) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        usual_ms = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout = {bound_ms}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {usual_ms}")


def _cache() -> None:
    key = f"healthz:{secrets.token_hex(8)}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was just stored")
    cache.delete(key)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while this instance can serve (the cache "degraded" if unreachable), 503 when it cannot."""
    body = {"status": "ok", "database": "ok"}
    try:
        _database()
    except WriteLockBusy as exc:
        logger.warning("health check failed check=database error=%s", exc)
        body["database"] = body["status"] = "busy"
    except Exception as exc:  # any failure means "cannot serve", never a 500
        # Only failures are logged: probes every few seconds must not flood the log.
        logger.warning("health check failed check=database error=%s", type(exc).__name__)
        body["database"] = body["status"] = "error"
    if settings.CACHES["default"]["BACKEND"] not in _IN_PROCESS_CACHES:
        try:
            _cache()
            body["cache"] = "ok"
        except Exception as exc:
            logger.warning("health check degraded check=cache error=%s", type(exc).__name__)
            body["cache"] = "degraded"
            if body["status"] == "ok":
                body["status"] = "degraded"
    return JsonResponse(body, status=200 if body["status"] in ("ok", "degraded") else 503)

"""GET /healthz: whether this instance can reach what it needs, for load balancers and monitors."""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

#: Caches that live inside the process: nothing to reach, so nothing to check.
_IN_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"healthz:{secrets.token_hex(8)}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was just stored")
    cache.delete(key)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database (and a shared cache, if configured) respond, else 503."""
    checks = {"database": _database}
    if settings.CACHES["default"]["BACKEND"] not in _IN_PROCESS_CACHES:
        checks["cache"] = _cache
    body = {"status": "ok"}
    for name, check in checks.items():
        try:
            check()
            body[name] = "ok"
        except Exception as exc:  # any failure means "not ready", never a 500
            # Only failures are logged: probes every few seconds must not flood the log.
            logger.warning("health check failed check=%s error=%s", name, type(exc).__name__)
            body[name] = "error"
            body["status"] = "error"
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)

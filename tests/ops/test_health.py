from __future__ import annotations

import secrets

import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.django_db

REDIS = "django.core.cache.backends.redis.RedisCache"


def redis_cache(location: str) -> dict:
    options = {"socket_connect_timeout": 2, "socket_timeout": 2}
    return {"default": {"BACKEND": REDIS, "LOCATION": location, "KEY_PREFIX": secrets.token_hex(4), "OPTIONS": options}}


def test_database_up_is_200_with_a_short_body(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]
    # A probe gets no session and no CSRF cookie.
    assert not response.cookies


def test_reachable_redis_is_checked(client, settings):
    settings.CACHES = redis_cache("redis://127.0.0.1:6379/5")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_cache_down_is_503(client, settings, caplog):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/5")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error"}
    assert "health check failed check=cache" in caplog.text


def test_only_reads_are_allowed(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200

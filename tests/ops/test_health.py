"""GET /healthz: 200 while the instance can serve (the cache maybe degraded), 503 when it cannot."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import threading

import pytest

from tests.helpers import ROOT, environ_without_settings, free_port
from verification.models import PhoneVerification

pytestmark = pytest.mark.django_db

REDIS = "django.core.cache.backends.redis.RedisCache"
SITE = "otpsite.settings"


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


def test_redis_down_is_200_degraded_while_the_database_counts(client, settings, caplog):
    # Redis stopped: nothing listens on its port. The send limits count in the database meanwhile, so the
    # instance still serves and must stay in the load balancer.
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/5")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "degraded"}
    assert "health check degraded check=cache" in caplog.text


def test_sqlite_write_lock_held_past_the_bound_is_503(tmp_path):
    database = tmp_path / "site.sqlite3"
    holder = sqlite3.connect(database, isolation_level=None)
    env = environ_without_settings(
        DATABASE_URL=f"sqlite:///{database}", DJANGO_HEALTHZ_WRITE_LOCK_SECONDS="0.3", DJANGO_SETTINGS_MODULE=SITE
    )
    try:
        assert probe(env) == (200, {"status": "ok", "database": "ok"})
        # Another process holds the write lock, as a stuck writer would: sends would queue behind it.
        holder.execute("BEGIN IMMEDIATE")
        assert probe(env) == (503, {"status": "busy", "database": "busy"})
        holder.execute("ROLLBACK")
        assert probe(env) == (200, {"status": "ok", "database": "ok"})
    finally:
        holder.close()


def probe(env: dict[str, str]) -> tuple[int, dict]:
    """GET /healthz in a fresh interpreter with `env`; return the status and the JSON body."""
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='127.0.0.1').get('/healthz'); print(r.status_code, r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(status), json.loads(body)


def test_only_reads_are_allowed(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


@pytest.mark.sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_thread_of_this_process_holding_the_write_lock_past_the_bound_is_503(client, settings):
    # The write queue (verification.db.sqlite3) bounds the probe's wait as SQLite's busy timeout does between
    # processes: a request stuck in a transaction in another thread of this worker must not hang the probe.
    from django.db import connections, transaction

    settings.HEALTHZ_WRITE_LOCK_SECONDS = 0.2
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                PhoneVerification.objects.create(phone="+33612345678")
                holding.set()
                done.wait(30)
        finally:
            connections["default"].close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        response = client.get("/healthz")
        assert (response.status_code, response.json()) == (503, {"status": "busy", "database": "busy"})
    finally:
        done.set()
        holder.join()
    assert client.get("/healthz").status_code == 200

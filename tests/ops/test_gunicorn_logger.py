"""Gunicorn's own log lines: JSON with LOG_FORMAT=json, and no access line for a successful probe."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from tests.gunicorn_server import database_url
from tests.helpers import ROOT, environ_without_settings, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_access_log_is_json_and_skips_healthy_probes():
    port = free_port()
    env = environ_without_settings(DATABASE_URL=database_url(), GUNICORN_BIND=f"127.0.0.1:{port}", LOG_FORMAT="json")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "otpsite.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in server.stderr:
            if "Listening at" in line:
                assert json.loads(line)["logger"] == "gunicorn.error"
                break
        else:
            pytest.fail("gunicorn exited before listening")
        base = f"http://127.0.0.1:{port}"
        assert requests.get(base + "/healthz", timeout=10).status_code == 200
        assert requests.get(base + "/", timeout=10).status_code == 200
    finally:
        server.terminate()
        access, _ = server.communicate(timeout=30)
    [line] = [json.loads(line) for line in access.splitlines()]
    assert line["logger"] == "gunicorn.access" and '"GET / HTTP/1.1" 200' in line["message"]

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


def access_lines(paths: list[str], **env: str) -> tuple[list[str], list[str]]:
    """GET each path from a fresh gunicorn; return its error-log and access-log lines."""
    port = free_port()
    env = environ_without_settings(DATABASE_URL=database_url(), GUNICORN_BIND=f"127.0.0.1:{port}", **env)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "otpsite.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    errors = []
    try:
        for line in server.stderr:
            errors.append(line)
            if "Listening at" in line:
                break
        else:
            pytest.fail("gunicorn exited before listening")
        for path in paths:
            assert requests.get(f"http://127.0.0.1:{port}{path}", timeout=10, allow_redirects=False).status_code
    finally:
        server.terminate()
        access, rest = server.communicate(timeout=30)
    return errors + rest.splitlines(), access.splitlines()


def test_access_log_is_json_and_skips_healthy_probes():
    errors, access = access_lines(["/healthz", "/"], LOG_FORMAT="json")
    assert json.loads(errors[-1])["logger"] == "gunicorn.error"
    [line] = [json.loads(line) for line in access]
    assert line["logger"] == "gunicorn.access" and '"GET / HTTP/1.1" 200' in line["message"]


def test_admin_searches_leave_no_number_in_the_access_log():
    number = "%2B33612345678"
    _, access = access_lines(
        [
            f"/admin/verification/phoneverification/?q={number}",
            f"/admin/login/?next=/admin/verification/verificationevent/%3Fq%3D{number}",
            f"/admin/verification/sentmessage/?_changelist_filters=q%3D{number}&o=1",
        ]
    )
    assert len(access) == 3
    assert '"GET /admin/verification/phoneverification/?q=[hidden] HTTP/1.1" 302' in access[0]
    assert "/admin/login/?next=[hidden]" in access[1] and "?_changelist_filters=[hidden]&o=[hidden]" in access[2]
    assert not any("12345678" in line for line in access)

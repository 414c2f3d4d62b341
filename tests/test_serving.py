"""The app as `make run` serves it: gunicorn with gunicorn.conf.py, static files by WhiteNoise."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.conftest import code_in, environ_without_settings

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """Return a URL for the test database this run created, so gunicorn shares it."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def gunicorn(tmp_path):
    """Start gunicorn on a free port; return its base URL and SMS folder."""
    port = free_port()
    outbox = tmp_path / "sms"
    env = environ_without_settings(
        DATABASE_URL=database_url(),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        SMS_BACKEND="verification.sms.backends.filebased.SmsBackend",
        SMS_FILE_PATH=str(outbox),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "otpsite.wsgi"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Gunicorn logs "Listening at" once the socket is bound; requests queue until a worker takes them.
        for line in server.stderr:
            if "Listening at" in line:
                break
        else:
            pytest.fail("gunicorn exited before listening")
        yield f"http://127.0.0.1:{port}", outbox
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_whole_flow_through_gunicorn(gunicorn):
    base, outbox = gunicorn
    browser = requests.Session()
    home = browser.get(base + "/", timeout=10)
    assert home.status_code == 200
    script = re.search(r'src="([^"]+countdown\.js)"', home.text).group(1)
    assert browser.get(base + script, timeout=10).status_code == 200

    token = browser.cookies["csrftoken"]
    sent = browser.post(base + "/", data={"phone": "+33 6 12 34 56 78", "csrfmiddlewaretoken": token}, timeout=10)
    assert sent.url == base + "/verify/" and "Code expires in" in sent.text
    [message] = outbox.iterdir()
    recipient, body = message.read_text().split("\n\n", 1)
    assert recipient == "To: +33612345678"
    code = code_in(body)

    done = browser.post(base + "/verify/", data={"code": code, "csrfmiddlewaretoken": token}, timeout=10)
    assert done.url == base + "/verified/" and "+33 6 12 34 56 78" in done.text

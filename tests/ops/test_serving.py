"""The app as `make run` serves it: gunicorn with gunicorn.conf.py, static files by WhiteNoise."""

from __future__ import annotations

import re

import pytest
import requests

from tests.gunicorn_server import serve
from tests.helpers import code_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gunicorn(tmp_path):
    """Start gunicorn on a free port; return its base URL and SMS folder."""
    with serve(tmp_path) as app:
        yield app.url, app.outbox


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

"""Limits that hold under a parallel attack over HTTP, across gunicorn worker processes.

Each test starts the real app (gthread, 2 processes x 4 threads) against this run's test database,
PostgreSQL or SQLite as DATABASE_URL says, and fires its requests from threads released together.
"""

from __future__ import annotations

from collections import Counter

import pytest
import redis
import requests
from django.utils import timezone

from tests.gunicorn_server import Browser, LiveApp, serve
from tests.helpers import PHONE, at_once, code_in, wrong_code
from verification.models import PhoneVerification

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.fixture
def live(tmp_path):
    with serve(tmp_path) as app:
        yield app
    assert not [line for line in app.log if "Traceback" in line or "Internal Server Error" in line]


def started(app: LiveApp) -> tuple[Browser, str]:
    browser = Browser(app)
    assert browser.post("/", {"phone": PHONE}).headers["Location"] == "/verify/"
    [sms] = app.sms()
    recipient, body = sms.split("\n\n", 1)
    assert recipient == f"To: {PHONE}"
    return browser, code_in(body)


def outcome(response: requests.Response) -> int | str:
    return response.headers.get("Location", response.status_code)


def test_parallel_wrong_guesses_count_exactly_max_attempts(live):
    browser, code = started(live)
    tabs = [browser.tab() for _ in range(30)]
    responses = at_once([lambda tab=tab: tab.post("/verify/", {"code": wrong_code(code)}) for tab in tabs])
    assert Counter(map(outcome, responses)) == {200: 2, "/locked/": 28}
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.failed_attempts == 3 and record.is_locked(timezone.now())


def test_parallel_correct_codes_verify_exactly_once(live):
    browser, code = started(live)
    tabs = [browser.tab() for _ in range(10)]
    outcomes = Counter(map(outcome, at_once([lambda tab=tab: tab.post("/verify/", {"code": code}) for tab in tabs])))
    # The others saw the code used up, or came after the success had replaced the session.
    assert outcomes["/verified/"] == 1 and set(outcomes) <= {"/verified/", 200, "/"}


def test_parallel_sends_for_one_number_send_one_sms(live):
    browsers = [Browser(live) for _ in range(20)]
    responses = at_once([lambda b=b: b.post("/", {"phone": PHONE}) for b in browsers])
    assert Counter(map(outcome, responses)) == {"/verify/": 20}
    assert len(live.sms()) == 1
    assert PhoneVerification.objects.get(phone=PHONE).send_count == 1


@pytest.mark.parametrize("store", ["database", "redis"])
def test_parallel_sends_from_one_ip_stop_at_the_ip_limit(tmp_path, store):
    env = {}
    if store == "redis":
        env["CACHE_URL"] = REDIS_URL
        # The live app counts under its own keys in this test Redis database; start from none.
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter("*otp-limit:*"):
            client.delete(key)
    with serve(tmp_path, **env) as app:
        browsers = [Browser(app) for _ in range(40)]
        numbers = [f"+336123456{i:02d}" for i in range(40)]
        responses = at_once(
            [lambda b=b, n=n: b.post("/", {"phone": n}) for b, n in zip(browsers, numbers, strict=True)]
        )
        assert Counter(r.status_code for r in responses) == {302: 10, 429: 30}
        assert all(0 < int(r.headers["Retry-After"]) <= 3600 for r in responses if r.status_code == 429)
        assert len(app.sms()) == 10
    assert not [line for line in app.log if "Traceback" in line]

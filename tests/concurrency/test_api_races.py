"""The pages' parallel cases through the JSON API: through Django's test client in threads, and through gunicorn
over HTTP (two worker processes), each request on its own database connection."""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from django.test import Client
from django.utils import timezone

from tests.gunicorn_server import serve
from tests.helpers import CODE_A, PHONE, code_in, fixed_codes, in_parallel, post_json, wrong_code
from verification.models import PhoneVerification, VerificationEvent
from verification.shortcuts import phone_from_token
from verification.signals import phone_verified

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sqlite_write_queue")]

TIMEOUT = 30


@pytest.fixture
def announced():
    """Count phone_verified signals."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs["phone"])

    phone_verified.connect(receiver)
    yield calls
    phone_verified.disconnect(receiver)


def started_in_process() -> str:
    with fixed_codes([CODE_A]):
        response = post_json(Client(), "/api/v1/send", {"phone": PHONE})
    assert response.status_code == 201
    return response.json()["challenge"]


def check_in_process(challenge: str, code: str) -> int:
    return post_json(Client(), "/api/v1/check", {"challenge": challenge, "code": code}).status_code


def test_30_parallel_wrong_checks_count_exactly_3_and_lock(sms_outbox):
    challenge = started_in_process()
    statuses = Counter(in_parallel(30, lambda i: check_in_process(challenge, wrong_code(CODE_A))))
    assert statuses == {400: 2, 423: 28}
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.failed_attempts == 3 and record.is_locked(timezone.now())
    assert VerificationEvent.objects.filter(kind="wrong_code").count() == 3


def test_10_parallel_right_checks_verify_exactly_once(sms_outbox, announced):
    challenge = started_in_process()
    statuses = Counter(in_parallel(10, lambda i: check_in_process(challenge, CODE_A)))
    assert statuses == {200: 1, 410: 9}
    assert announced == [PHONE]


@pytest.fixture
def live(tmp_path):
    with serve(tmp_path) as app:
        yield app
    assert not [line for line in app.log if "Traceback" in line or "Internal Server Error" in line]


def started_over_http(app) -> tuple[str, str]:
    """Ask the live app for a code to PHONE; return the challenge and the code."""
    response = requests.post(f"{app.url}/api/v1/send", json={"phone": PHONE}, timeout=TIMEOUT)
    assert response.status_code == 201
    [sms] = app.sms()
    return response.json()["challenge"], code_in(sms.split("\n\n", 1)[1])


def check_over_http(app, challenge: str, code: str) -> requests.Response:
    return requests.post(f"{app.url}/api/v1/check", json={"challenge": challenge, "code": code}, timeout=TIMEOUT)


def test_30_parallel_wrong_checks_over_http_count_exactly_3_and_lock(live):
    challenge, code = started_over_http(live)
    responses = in_parallel(30, lambda i: check_over_http(live, challenge, wrong_code(code)))
    assert Counter(r.status_code for r in responses) == {400: 2, 423: 28}
    assert sorted(r.json()["attempts_left"] for r in responses if r.status_code == 400) == [1, 2]
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.failed_attempts == 3 and record.is_locked(timezone.now())
    assert check_over_http(live, challenge, code).status_code == 423


def test_10_parallel_right_checks_over_http_verify_exactly_once(live):
    challenge, code = started_over_http(live)
    responses = in_parallel(10, lambda i: check_over_http(live, challenge, code))
    assert Counter(r.status_code for r in responses) == {200: 1, 410: 9}
    [verified] = [r.json() for r in responses if r.status_code == 200]
    assert phone_from_token(verified["token"]) == PHONE
    assert VerificationEvent.objects.filter(kind="verified", channel="api").count() == 1

"""Parallel requests against one number, each thread on its own database connection.

On PostgreSQL select_for_update() serialises them; on SQLite the IMMEDIATE
transactions do. Either way the counters must come out exact.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client

from tests.helpers import PHONE, T0, code_in, in_parallel, wrong_code
from verification import services
from verification.models import PhoneVerification, PumpingPause
from verification.services import CheckOutcome, SendOutcome

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sqlite_write_queue")]


def test_parallel_wrong_guesses_count_exactly_max_attempts(sms_outbox):
    services.send_code(PHONE, T0)
    bad = wrong_code(code_in(sms_outbox[0]))
    outcomes = Counter(r.outcome for r in in_parallel(30, lambda i: services.check_code(PHONE, bad, T0)))
    assert outcomes == {CheckOutcome.MISMATCH: 2, CheckOutcome.LOCKED: 28}
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.failed_attempts == 3 and record.is_locked(T0)


def test_parallel_correct_codes_verify_exactly_once(sms_outbox):
    services.send_code(PHONE, T0)
    code = code_in(sms_outbox[0])
    outcomes = Counter(r.outcome for r in in_parallel(10, lambda i: services.check_code(PHONE, code, T0)))
    assert outcomes == {CheckOutcome.VERIFIED: 1, CheckOutcome.EXPIRED: 9}


def test_parallel_sends_send_one_sms(sms_outbox):
    outcomes = Counter(r.outcome for r in in_parallel(20, lambda i: services.send_code(PHONE, T0)))
    assert outcomes == {SendOutcome.SENT: 1, SendOutcome.COOLDOWN: 19}
    assert len(sms_outbox) == 1
    assert PhoneVerification.objects.get(phone=PHONE).send_count == 1


def tabs(n: int) -> list[Client]:
    """Return n clients sharing one browser session that has asked for a code to PHONE."""
    first = Client()
    assert first.post("/", {"phone": PHONE})["Location"] == "/verify/"
    clients = [first]
    for _ in range(n - 1):
        client = Client()
        client.cookies.load({name: morsel.value for name, morsel in first.cookies.items()})
        clients.append(client)
    return clients


def test_parallel_code_submits_over_http_verify_once(sms_outbox):
    browsers = tabs(10)
    assert len(sms_outbox) == 1
    code = code_in(sms_outbox[0])
    responses = in_parallel(10, lambda i: browsers[i].post("/verify/", {"code": code}))
    locations = Counter(r.get("Location", r.status_code) for r in responses)
    # The rest saw the code used up, or (arriving after the success cycled the session) start again.
    assert locations["/verified/"] == 1 and set(locations) <= {"/verified/", 200, "/"}


def test_parallel_wrong_guesses_over_http_lock_once(sms_outbox):
    browsers = tabs(12)
    bad = wrong_code(code_in(sms_outbox[0]))
    responses = in_parallel(12, lambda i: browsers[i].post("/verify/", {"code": bad}))
    assert all(r.status_code in (200, 302) for r in responses)
    assert sum(r.status_code == 200 for r in responses) == 2
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 3


def test_parallel_sends_stop_exactly_at_the_ip_limit(sms_outbox):
    numbers = [f"+336123456{i:02d}" for i in range(20)]
    results = in_parallel(20, lambda i: services.send_code(numbers[i], T0, client_ip="203.0.113.9"))
    assert Counter(r.outcome for r in results) == {SendOutcome.SENT: 10, SendOutcome.RATE_LIMITED: 10}
    assert len(sms_outbox) == 10


def test_parallel_sends_to_one_range_stop_exactly_at_the_pumping_threshold(sms_outbox):
    # 40 sends at once to one number range from 40 addresses: the brake's check and its tally hold the
    # range's lock (as the send limits hold theirs), so no send slips past the threshold of 20.
    numbers = [f"+447400{i:06d}" for i in range(40)]
    results = in_parallel(40, lambda i: services.send_code(numbers[i], T0, client_ip=f"198.51.100.{i}"))
    outcomes = Counter((r.outcome, r.limit) for r in results)
    assert outcomes == {(SendOutcome.SENT, ""): 20, (SendOutcome.RATE_LIMITED, "pumping"): 20}
    assert len(sms_outbox) == 20
    pause = PumpingPause.objects.get()
    assert (str(pause), pause.sent) == ("+44 7400", 20)

"""Every Twilio fault, end to end: the real twilio library, the fake Twilio server, and our views."""

from __future__ import annotations

import logging
import time

import pytest
from django.db.models import Sum

from tests.helpers import PHONE, code_in
from verification.models import PhoneVerification, PumpingTally, RateEvent, SentMessage
from verification.phone_numbers import mask

pytestmark = pytest.mark.django_db

CANT_RECEIVE = "This number can&#x27;t receive SMS."
COUNTRY = "We can&#x27;t send to this country."
OPTED_OUT = "This number has opted out of SMS."
TRY_AGAIN = "We couldn&#x27;t send the code right now, please try again."

# id: (make the fault, message the person sees, Twilio error code in the log line)
FAULTS = {
    "invalid-number": (lambda f: f.fail_with(21211, "Invalid 'To' Phone Number"), CANT_RECEIVE, "21211"),
    "not-a-mobile": (lambda f: f.fail_with(21614, "'To' number is not a valid mobile number"), CANT_RECEIVE, "21614"),
    "region-not-enabled": (
        lambda f: f.fail_with(21408, "Permission to send an SMS has not been enabled"),
        COUNTRY,
        "21408",
    ),
    "no-route": (lambda f: f.fail_with(21612, "The 'To' phone number is not currently reachable"), COUNTRY, "21612"),
    "opted-out": (lambda f: f.fail_with(21610, "Attempt to send to unsubscribed recipient"), OPTED_OUT, "21610"),
    "opted-out-problem-format": (lambda f: f.fail_with_problem(21610, "Unsubscribed recipient"), OPTED_OUT, "21610"),
    "rate-limited": (lambda f: f.rate_limit(), TRY_AGAIN, "20429"),
    "server-error": (lambda f: f.server_error(), TRY_AGAIN, ""),
    "timeout": (lambda f: f.hang(), TRY_AGAIN, ""),
    "refused": (lambda f: f.refuse_connections(), TRY_AGAIN, ""),
}


@pytest.fixture
def twilio(fake_twilio, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    return fake_twilio


def page(response) -> str:
    return response.content.decode()


def failure_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("verification") and "failed" in r.getMessage()]


@pytest.mark.parametrize("fault,message,provider_code", FAULTS.values(), ids=FAULTS.keys())
def test_failed_first_send_shows_why_and_changes_nothing(client, twilio, caplog, fault, message, provider_code):
    fault(twilio)

    response = client.post("/", {"phone": PHONE})

    assert response.status_code == 200
    assert message in page(response)
    assert "verification_phone" not in client.session
    record = PhoneVerification.objects.get(phone=PHONE)
    assert (record.code_hash, record.next_send_at, record.failed_attempts, record.locked_until) == ("", None, 0, None)
    assert record.send_count == 0 and not SentMessage.objects.exists()
    [line] = failure_lines(caplog)
    expected_code = provider_code or '""'
    assert f"provider_code={expected_code}" in line and mask(PHONE) in line
    assert PHONE not in caplog.text


@pytest.mark.parametrize("fault,message,provider_code", FAULTS.values(), ids=FAULTS.keys())
def test_failed_resend_shows_why_and_the_previous_code_still_works(
    client, twilio, settings, frozen, caplog, fault, message, provider_code
):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 30
    assert client.post("/", {"phone": PHONE})["Location"] == "/verify/"
    code = code_in(twilio.requests[0].form["Body"])
    before = PhoneVerification.objects.values().get(phone=PHONE)
    frozen.shift(30)
    fault(twilio)

    response = client.post("/verify/resend/", follow=True)

    assert response.status_code == 200 and response.redirect_chain == [("/verify/", 302)]
    assert message in page(response)
    assert 'id="resend" disabled' not in page(response)
    after = PhoneVerification.objects.values().get(phone=PHONE)
    # The claimed cooldown was handed back; the code, its expiry, counters and lock are as they were.
    assert after == before | {"next_send_at": None, "updated_at": after["updated_at"]}
    assert SentMessage.objects.count() == 1
    assert len(failure_lines(caplog)) == 1
    assert client.post("/verify/", {"code": code})["Location"] == "/verified/"


def test_a_silent_twilio_is_given_up_on_within_the_timeout(client, fake_twilio, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 1.0
    fake_twilio.hang()

    started = time.perf_counter()
    response = client.post("/", {"phone": PHONE})
    elapsed = time.perf_counter() - started

    assert response.status_code == 200 and TRY_AGAIN in page(response)
    assert 1.0 <= elapsed < 1.0 + 1
    assert len(fake_twilio.requests) == 1


def test_after_a_refusal_the_person_can_try_again_at_once(client, twilio, caplog):
    caplog.set_level(logging.INFO, logger="twilio.http_client")
    twilio.refuse_connections()
    assert client.post("/", {"phone": PHONE}).status_code == 200
    attempts = [r for r in caplog.records if r.getMessage() == "-- BEGIN Twilio API Request --"]
    assert len(attempts) == 2

    twilio.accept_connections()

    assert client.post("/", {"phone": PHONE})["Location"] == "/verify/"
    assert len(twilio.requests) == 1


def test_number_problems_are_marked_on_the_phone_field(client, twilio):
    twilio.fail_with(21211, "Invalid 'To' Phone Number")
    response = client.post("/", {"phone": PHONE})
    assert response.context["form"].errors["phone"] == ["This number can't receive SMS."]


def test_an_outage_is_not_blamed_on_the_number(client, twilio):
    twilio.server_error()
    response = client.post("/", {"phone": PHONE})
    form = response.context["form"]
    assert "phone" not in form.errors and form.non_field_errors() == [
        "We couldn't send the code right now, please try again."
    ]


def test_five_sends_during_an_outage_then_one_that_works(client, twilio, frozen):
    twilio.server_error(times=None)
    for _ in range(5):
        response = client.post("/", {"phone": PHONE})
        assert response.status_code == 200 and TRY_AGAIN in page(response)
        frozen.shift(60)
    # Every try reached Twilio (a minute apart, each one is the outage's probe), and none was a 429.
    assert len(twilio.requests) == 5

    twilio.reset()

    assert client.post("/", {"phone": PHONE})["Location"] == "/verify/"
    # Nothing the failed sends claimed was kept: only the one SMS that left counts, everywhere.
    assert sorted(RateEvent.objects.values_list("scope", flat=True)) == ["budget", "ip", "number"]
    assert PumpingTally.objects.aggregate(sent=Sum("sent"))["sent"] == 1
    assert PhoneVerification.objects.get(phone=PHONE).send_count == 1

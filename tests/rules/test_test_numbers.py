"""Test numbers: a fixed code, no SMS from any provider, counted by no limit, until their end date; the lock
after wrong codes still applies, and their events are marked as test events."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.helpers import PHONE, T0, at, post_json
from verification import services
from verification.checks import check_test_numbers, check_test_numbers_end
from verification.models import PhoneVerification, PumpingTally, RateEvent, SentMessage, VerificationEvent
from verification.services import CheckOutcome, SendOutcome

pytestmark = pytest.mark.django_db

TEST_NUMBER, TEST_CODE = "+15555550100", "123456"
#: A real mobile number configured as a test number too.
MOBILE_TEST_NUMBER, MOBILE_TEST_CODE = "+33612345670", "654321"


@pytest.fixture(autouse=True)
def test_numbers(settings):
    settings.OTP_TEST_NUMBERS = f"{TEST_NUMBER}={TEST_CODE}, {MOBILE_TEST_NUMBER}={MOBILE_TEST_CODE}"
    settings.OTP_TEST_NUMBERS_VALID_UNTIL = "2026-03-31"
    return settings


def test_a_test_number_verifies_with_its_code_and_gets_no_sms(sms_outbox, fake_twilio):
    result = services.send_code(TEST_NUMBER, at(), client_ip="203.0.113.9")
    assert result.outcome is SendOutcome.SENT and result.challenge
    assert sms_outbox == [] and fake_twilio.requests == [] and SentMessage.objects.count() == 0
    assert services.check_code(TEST_NUMBER, TEST_CODE, at(10)).outcome is CheckOutcome.VERIFIED
    # A real number that is a test number is not sent anything either.
    services.send_code(MOBILE_TEST_NUMBER, at(20))
    assert services.check_code(MOBILE_TEST_NUMBER, MOBILE_TEST_CODE, at(30)).outcome is CheckOutcome.VERIFIED
    assert fake_twilio.requests == []


def test_no_limit_brake_or_budget_counts_a_test_number(settings, sms_outbox):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "1/1h"
    settings.OTP_SEND_LIMITS_PER_IP = "1/1h"
    settings.OTP_SEND_BUDGET = "1/1h"
    settings.OTP_PUMPING_MIN_SENDS = 2
    for i in range(10):
        # No cooldown either: a test suite may ask again at once.
        assert services.send_code(MOBILE_TEST_NUMBER, at(i), client_ip="203.0.113.9").outcome is SendOutcome.SENT
        assert services.check_code(MOBILE_TEST_NUMBER, MOBILE_TEST_CODE, at(i)).outcome is CheckOutcome.VERIFIED
    assert RateEvent.objects.count() == 0 and PumpingTally.objects.count() == 0
    # An ordinary number from the same client, in the same range, still has every limit to itself.
    assert services.send_code(PHONE, at(20), client_ip="203.0.113.9").outcome is SendOutcome.SENT
    assert services.send_code("+33612345679", at(30), client_ip="203.0.113.9").outcome is SendOutcome.RATE_LIMITED


def test_wrong_codes_still_lock_a_test_number(sms_outbox):
    services.send_code(TEST_NUMBER, at())
    outcomes = [services.check_code(TEST_NUMBER, "000000", at(i)).outcome for i in range(3)]
    assert outcomes == [CheckOutcome.MISMATCH, CheckOutcome.MISMATCH, CheckOutcome.LOCKED]
    # Locked: even the right code, even a new send, waits for the lock to end.
    assert services.check_code(TEST_NUMBER, TEST_CODE, at(5)).outcome is CheckOutcome.LOCKED
    assert services.send_code(TEST_NUMBER, at(6)).outcome is SendOutcome.LOCKED
    assert services.send_code(TEST_NUMBER, at(603)).outcome is SendOutcome.SENT
    assert services.check_code(TEST_NUMBER, TEST_CODE, at(604)).outcome is CheckOutcome.VERIFIED


def test_events_are_marked_as_test_events(sms_outbox):
    services.send_code(TEST_NUMBER, at())
    services.check_code(TEST_NUMBER, "000000", at(1))
    services.check_code(TEST_NUMBER, TEST_CODE, at(2))
    services.send_code(PHONE, at(3))
    marked = dict(VerificationEvent.objects.values_list("kind", "is_test").filter(phone=TEST_NUMBER))
    assert marked == {"sent": True, "wrong_code": True, "verified": True}
    assert not VerificationEvent.objects.get(phone=PHONE).is_test


def test_after_their_end_date_they_are_ordinary_numbers(sms_outbox):
    # Valid through the whole of the last day (the site's time zone, UTC here).
    last_moment = T0.replace(month=3, day=31, hour=23, minute=59)
    services.send_code(MOBILE_TEST_NUMBER, last_moment)
    assert sms_outbox == []
    after = last_moment.replace(month=4, day=1, hour=0, minute=1)
    assert services.send_code(MOBILE_TEST_NUMBER, after).outcome is SendOutcome.SENT
    assert len(sms_outbox) == 1
    assert services.check_code(MOBILE_TEST_NUMBER, MOBILE_TEST_CODE, after).outcome is CheckOutcome.MISMATCH
    assert not VerificationEvent.objects.filter(created_at__gte=after).filter(is_test=True).exists()
    # The fictional number is no number at all once it stops being a test number.
    assert services.send_code(TEST_NUMBER, after).outcome is SendOutcome.REFUSED


def test_pages_verify_a_test_number_without_sms(client, frozen, sms_outbox):
    response = client.post("/", {"phone": "+1 555-555-0100"})
    assert response.status_code == 302 and sms_outbox == []
    response = client.post("/verify/", {"code": TEST_CODE})
    assert response["Location"] == "/verified/"
    assert client.session["verification_verified_phone"] == TEST_NUMBER


def test_pages_refuse_an_expired_fictional_test_number(client, frozen, settings, sms_outbox):
    settings.OTP_TEST_NUMBERS_VALID_UNTIL = date(2026, 2, 28)
    response = client.post("/", {"phone": TEST_NUMBER})
    assert response.status_code == 200 and "That is not a valid phone number." in response.content.decode()


def test_api_verifies_a_test_number_without_sms(client, frozen, sms_outbox):
    sent = post_json(client, "/api/v1/send", {"phone": TEST_NUMBER})
    assert sent.status_code == 201 and sms_outbox == []
    assert sent.json()["resend_in"] == 0
    checked = post_json(client, "/api/v1/check", {"challenge": sent.json()["challenge"], "code": TEST_CODE})
    assert checked.status_code == 200 and checked.json()["phone"] == TEST_NUMBER


def test_a_test_number_is_never_asked_for_a_bot_challenge(client, frozen, settings, sms_outbox, fake_siteverify):
    settings.OTP_BOT_CHALLENGE_WHEN = "always"
    assert post_json(client, "/api/v1/send", {"phone": TEST_NUMBER}).status_code == 201
    assert client.post("/", {"phone": TEST_NUMBER}).status_code == 302
    assert post_json(client, "/api/v1/send", {"phone": PHONE}).status_code == 400
    assert fake_siteverify.requests == []


def test_the_setting_also_takes_a_dict(settings, sms_outbox):
    settings.OTP_TEST_NUMBERS = {TEST_NUMBER: TEST_CODE}
    services.send_code(TEST_NUMBER, at())
    assert services.check_code(TEST_NUMBER, TEST_CODE, at(1)).outcome is CheckOutcome.VERIFIED
    assert PhoneVerification.objects.get(phone=TEST_NUMBER).verified_at == at(1)


def test_deploy_check_warns_about_test_numbers_without_an_end_date(settings):
    settings.DEBUG = False
    assert check_test_numbers_end() == []
    settings.OTP_TEST_NUMBERS_VALID_UNTIL = ""
    (warning,) = check_test_numbers_end()
    assert warning.id == "verification.W001" and "no end date" in warning.msg
    settings.DEBUG = True
    assert check_test_numbers_end() == []


def test_malformed_test_numbers_are_reported(settings):
    settings.OTP_TEST_NUMBERS = {"5555550100": "123456", TEST_NUMBER: "12ab"}
    assert {error.id for error in check_test_numbers()} == {"verification.E033", "verification.E034"}
    settings.OTP_TEST_NUMBERS = "+15555550100"
    with pytest.raises(SystemCheckError, match="OTP_TEST_NUMBERS cannot be read"):
        call_command("check")

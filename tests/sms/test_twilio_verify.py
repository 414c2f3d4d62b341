"""Twilio Verify as a backend: Twilio makes and checks the code; the lock, limits and audit trail stay ours."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.helpers import PHONE, at, code_in, wrong_code
from verification import services
from verification.models import PhoneVerification, SentMessage, VerificationEvent
from verification.services import CheckOutcome, SendOutcome
from verification.sms import SmsProblem

pytestmark = pytest.mark.django_db


@pytest.fixture
def verify(fake_verify, settings):
    settings.SMS_BACKEND = "twilio_verify"
    return fake_verify


def sent(verify, phone=PHONE, now=0, **kwargs) -> services.SendResult:
    result = services.send_code(phone, at(now), **kwargs)
    assert result.outcome is SendOutcome.SENT
    return result


def test_every_request_fits_twilios_openapi_description(verify):
    with translation.override("pt-br"):
        sent(verify)
    services.check_code(PHONE, "000000" if verify.codes[PHONE] != "000000" else "111111", at(5))
    services.check_code(PHONE, verify.codes[PHONE], at(6))
    requests = verify.requests
    assert [r.path.rsplit("/", 1)[-1] for r in requests] == ["Verifications", "VerificationCheck", "VerificationCheck"]
    assert all(r.auth_ok and r.violations == () for r in requests), [r.violations for r in requests]
    assert requests[0].form == {"To": PHONE, "Channel": "sms", "Locale": "pt-BR"}
    assert requests[0].path == f"/v2/Services/{verify.service_sid}/Verifications"


def test_twilios_code_verifies(verify):
    result = sent(verify)
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.checked_by == "twilio_verify"
    message = SentMessage.objects.get()
    assert message.provider == "twilio_verify" and message.sid.startswith("VE")
    checked = services.check_code(PHONE, verify.codes[PHONE], at(10), challenge=result.challenge)
    assert checked.outcome is CheckOutcome.VERIFIED
    assert VerificationEvent.objects.filter(kind=VerificationEvent.Kind.VERIFIED).count() == 1


def test_three_wrong_codes_lock_the_number_ours_counted(verify):
    sent(verify)
    code = verify.codes[PHONE]
    outcomes = [services.check_code(PHONE, wrong_code(code), at(i)).outcome for i in range(1, 4)]
    assert outcomes == [CheckOutcome.MISMATCH, CheckOutcome.MISMATCH, CheckOutcome.LOCKED]
    checks = len(verify.requests)
    # Locked: even Twilio's right code is refused, without asking Twilio.
    assert services.check_code(PHONE, code, at(5)).outcome is CheckOutcome.LOCKED
    assert len(verify.requests) == checks
    assert VerificationEvent.objects.filter(kind=VerificationEvent.Kind.WRONG_CODE).count() == 3


@pytest.mark.parametrize(("code", "status"), [(60202, 429), (20404, 404), (60203, 429)])
def test_twilios_refusals_of_a_check_end_the_code_cleanly(verify, code, status):
    sent(verify)
    verify.fail("VerificationCheck", code, status)
    result = services.check_code(PHONE, verify.codes[PHONE], at(5))
    assert result.outcome is CheckOutcome.EXPIRED
    assert PhoneVerification.objects.get(phone=PHONE).code_hash == ""


def test_an_unreachable_verify_counts_no_failure(verify):
    sent(verify)
    verify.server_error("VerificationCheck")
    assert services.check_code(PHONE, verify.codes[PHONE], at(5)).outcome is CheckOutcome.EXPIRED
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.failed_attempts == 0 and record.code_hash
    # Back up: the same code still works.
    assert services.check_code(PHONE, verify.codes[PHONE], at(6)).outcome is CheckOutcome.VERIFIED


@pytest.mark.parametrize(
    ("code", "status", "problem"),
    [
        (60200, 400, SmsProblem.INVALID_NUMBER),
        (60410, 403, SmsProblem.COUNTRY_NOT_ALLOWED),
        (60203, 429, SmsProblem.UNAVAILABLE),
        (20003, 401, SmsProblem.UNAVAILABLE),
    ],
)
def test_twilios_refusals_of_a_send_are_clear_outcomes(verify, code, status, problem):
    verify.fail("Verifications", code, status)
    result = services.send_code(PHONE, at(0))
    assert (result.outcome, result.problem) == (SendOutcome.FAILED, problem)


def test_a_code_verify_could_not_send_goes_out_by_plain_sms_with_our_own_code(verify, fake_hook, settings):
    settings.SMS_FALLBACK_BACKENDS = "hook"
    verify.fail("Verifications", 60203, 429)
    sent(verify)
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.checked_by == ""
    code = code_in(fake_hook.requests[-1].json["text"])
    assert services.check_code(PHONE, code, at(5)).outcome is CheckOutcome.VERIFIED
    # Our own hash decided: Twilio was not asked.
    assert [r.path.rsplit("/", 1)[-1] for r in verify.requests] == ["Verifications"]


def test_a_later_plain_sms_code_is_checked_by_us_again(verify, settings, sms_outbox):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    sent(verify)
    settings.SMS_BACKEND = "locmem"
    sent(verify, now=1)
    assert PhoneVerification.objects.get(phone=PHONE).checked_by == ""
    assert services.check_code(PHONE, code_in(sms_outbox[-1]), at(5)).outcome is CheckOutcome.VERIFIED

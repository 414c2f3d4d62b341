"""Failed sends limited on their own: while the SMS provider is down, one send per interval tries it."""

from __future__ import annotations

import pytest

from tests.helpers import at
from verification import services
from verification.models import PhoneVerification, VerificationEvent
from verification.services import SendOutcome
from verification.sms import SmsProblem

pytestmark = pytest.mark.django_db


def french(i: int) -> str:
    return f"+336123456{i:02d}"


def send(i: int, seconds: float) -> services.SendResult:
    return services.send_code(french(i), now=at(seconds), client_ip="203.0.113.9")


def test_while_the_provider_is_down_one_send_per_interval_tries_it(fake_twilio, caplog):
    fake_twilio.server_error(times=None)
    for i in range(3):
        assert send(i, i).problem is SmsProblem.UNAVAILABLE
    assert len(fake_twilio.requests) == 3
    assert "sms provider down: 3 sends in a row failed" in caplog.text
    events, numbers = VerificationEvent.objects.count(), PhoneVerification.objects.count()
    # Within the interval, sends fail at once: no call, no thread held for the timeout, nothing written.
    for i in range(3, 30):
        result = send(i, 5)
        assert (result.outcome, result.problem) == (SendOutcome.FAILED, SmsProblem.UNAVAILABLE)
    assert len(fake_twilio.requests) == 3
    assert (VerificationEvent.objects.count(), PhoneVerification.objects.count()) == (events, numbers)
    # One send per interval tries the provider again.
    assert send(30, 12).outcome is SendOutcome.FAILED and len(fake_twilio.requests) == 4
    assert send(31, 13).outcome is SendOutcome.FAILED and len(fake_twilio.requests) == 4
    fake_twilio.reset()
    # The provider is back: the next try gets through and ends the outage for everyone.
    assert send(32, 22).outcome is SendOutcome.SENT
    assert send(33, 22.5).outcome is SendOutcome.SENT
    assert "sms provider answers again" in caplog.text


def test_refusals_about_the_number_are_answers_not_an_outage(fake_twilio):
    fake_twilio.fail_with(21211, "Invalid 'To' Phone Number", times=None)
    for i in range(6):
        assert send(i, i).problem is SmsProblem.INVALID_NUMBER
    assert len(fake_twilio.requests) == 6


def test_an_answer_between_failures_starts_the_count_again(fake_twilio):
    for i in range(4):
        fake_twilio.server_error(times=2)
        assert send(2 * i, i).outcome is SendOutcome.FAILED
        assert send(2 * i + 1, i).outcome is SendOutcome.FAILED
        fake_twilio.fail_with(21211, "Invalid 'To' Phone Number")
        assert send(50 + i, i).problem is SmsProblem.INVALID_NUMBER
    assert len(fake_twilio.requests) == 12


def test_zero_failures_turns_it_off(fake_twilio, settings):
    settings.OTP_OUTAGE_FAILURES = 0
    fake_twilio.server_error(times=None)
    for i in range(6):
        assert send(i, 0).outcome is SendOutcome.FAILED
    assert len(fake_twilio.requests) == 6

"""send_code and check_code under the abuse limits: each limit, the pumping brake, the browser binding."""

from __future__ import annotations

import logging

import pytest

from tests.helpers import PHONE, at, code_in, wrong_code
from verification import services
from verification.limits import pumping
from verification.models import PhoneVerification, PumpingPause
from verification.services import CheckOutcome, SendOutcome

pytestmark = pytest.mark.django_db

US = "+14155552671"


@pytest.fixture(autouse=True)
def no_cooldown(settings):
    """Without the resend cooldown only the limits under test stand between sends."""
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0


def french(i: int) -> str:
    return f"+336123456{i:02d}"


def test_per_number_limit_refuses_and_changes_nothing(settings, sms_outbox):
    settings.OTP_TTL_SECONDS = 3600
    for minute in range(5):
        assert services.send_code(PHONE, now=at(minutes=minute)).outcome is SendOutcome.SENT
    before = PhoneVerification.objects.get(phone=PHONE)
    result = services.send_code(PHONE, now=at(minutes=10))
    assert (result.outcome, result.limit, result.retry_at) == (SendOutcome.RATE_LIMITED, "number", at(minutes=60))
    assert len(sms_outbox) == 5
    after = PhoneVerification.objects.get(phone=PHONE)
    assert (after.code_hash, after.challenge, after.send_count) == (before.code_hash, before.challenge, 5)
    # The last code still works.
    check = services.check_code(PHONE, code_in(sms_outbox[-1]), now=at(minutes=10), challenge=before.challenge)
    assert check.outcome is CheckOutcome.VERIFIED
    assert services.send_code(PHONE, now=at(minutes=60)).outcome is SendOutcome.SENT


def test_per_number_daily_limit(settings, sms_outbox):
    for hour in range(10):
        assert services.send_code(PHONE, now=at(minutes=60 * hour)).outcome is SendOutcome.SENT
    result = services.send_code(PHONE, now=at(minutes=60 * 10))
    assert (result.limit, result.retry_at) == ("number", at(minutes=24 * 60))


def test_per_ip_limit_spans_numbers(sms_outbox):
    for i in range(10):
        assert services.send_code(french(i), now=at(minutes=i), client_ip="203.0.113.9").outcome is SendOutcome.SENT
    result = services.send_code(french(10), now=at(minutes=11), client_ip="203.0.113.9")
    assert (result.outcome, result.limit, result.retry_at) == (SendOutcome.RATE_LIMITED, "ip", at(minutes=60))
    assert services.send_code(french(10), now=at(minutes=11), client_ip="203.0.113.10").outcome is SendOutcome.SENT
    assert len(sms_outbox) == 11


def test_per_session_limit(sms_outbox):
    for i in range(5):
        assert services.send_code(french(i), now=at(minutes=i), session_key="s1").outcome is SendOutcome.SENT
    assert services.send_code(french(5), now=at(minutes=6), session_key="s1").limit == "session"
    assert services.send_code(french(5), now=at(minutes=6), session_key="s2").outcome is SendOutcome.SENT


def test_cooldown_refusals_use_up_no_limit(settings, sms_outbox):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 120
    assert services.send_code(PHONE, now=at(minutes=0), client_ip="203.0.113.9").outcome is SendOutcome.SENT
    for _ in range(30):
        assert services.send_code(PHONE, now=at(minutes=1), client_ip="203.0.113.9").outcome is SendOutcome.COOLDOWN
    for i in range(9):
        assert services.send_code(french(i), now=at(minutes=2), client_ip="203.0.113.9").outcome is SendOutcome.SENT


def test_budget_stops_everyone_and_is_logged_once(settings, sms_outbox, caplog):
    settings.OTP_SEND_BUDGET = "3/1h"
    for i in range(3):
        assert services.send_code(french(i), now=at(minutes=i)).outcome is SendOutcome.SENT
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "budget spent" in errors[0].getMessage()
    for i in range(3, 8):
        result = services.send_code(french(i), now=at(minutes=10 + i))
        assert (result.limit, result.retry_at) == ("budget", at(minutes=60))
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    assert len(sms_outbox) == 3
    assert services.send_code(french(9), now=at(minutes=60.5)).outcome is SendOutcome.SENT


def test_failed_sends_count_toward_the_limits(settings, sms_outbox, sms_down):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "2/1h"
    sms_down()
    assert services.send_code(PHONE, now=at(minutes=0)).outcome is SendOutcome.FAILED
    assert services.send_code(PHONE, now=at(minutes=1)).outcome is SendOutcome.FAILED
    assert services.send_code(PHONE, now=at(minutes=2)).outcome is SendOutcome.RATE_LIMITED


# --- pumping brake ---------------------------------------------------------------------------------


def pump(count: int, start: float = 0, prefix: str = "+336123") -> None:
    for i in range(count):
        result = services.send_code(
            f"{prefix}{i:05d}", now=at(minutes=start + i * 0.1), client_ip=f"198.51.100.{i % 250}"
        )
        assert result.outcome is SendOutcome.SENT


def test_brake_trips_on_low_conversion_and_spares_other_countries(sms_outbox, caplog):
    pump(20)
    result = services.send_code(french(99), now=at(minutes=5))
    assert (result.outcome, result.limit, result.retry_at) == (SendOutcome.RATE_LIMITED, "pumping", at(minutes=65))
    pause = PumpingPause.objects.get()
    assert (pause.calling_code, pause.sent, pause.verified, pause.paused_until) == ("33", 20, 0, at(minutes=65))
    assert "sms pumping brake: sends to +33 paused" in caplog.text
    assert len(sms_outbox) == 20
    assert services.send_code(US, now=at(minutes=6)).outcome is SendOutcome.SENT
    assert services.send_code(french(98), now=at(minutes=64)).limit == "pumping"
    # Recovery: once the pause is over, +33 is judged on new traffic only.
    assert services.send_code(french(98), now=at(minutes=65)).outcome is SendOutcome.SENT


def test_brake_holds_off_while_enough_codes_are_verified(sms_outbox):
    for i in range(25):
        phone = french(i)
        result = services.send_code(phone, now=at(minutes=i))
        assert result.outcome is SendOutcome.SENT
        if i % 4 == 0:  # 7 of 25 verified: 28% > 20%
            code = code_in(sms_outbox[-1])
            assert services.check_code(phone, code, now=at(minutes=i)).outcome is CheckOutcome.VERIFIED
    assert not PumpingPause.objects.exists()


def test_brake_needs_the_minimum_sends_and_forgets_old_ones(sms_outbox):
    pump(19)
    # Over an hour later the first 19 are out of the window.
    pump(19, start=62, prefix="+336124")
    assert not PumpingPause.objects.exists()


def test_resume_now_lifts_the_pause(sms_outbox):
    pump(20)
    assert services.send_code(french(99), now=at(minutes=5)).limit == "pumping"
    assert [p.calling_code for p in pumping.resume(PumpingPause.objects.all(), at(minutes=6))] == ["33"]
    assert services.send_code(french(99), now=at(minutes=6)).outcome is SendOutcome.SENT
    assert pumping.resume(PumpingPause.objects.all(), at(minutes=7)) == []


def test_brake_off_with_zero_min_sends(settings, sms_outbox):
    settings.OTP_PUMPING_MIN_SENDS = 0
    pump(30)
    assert not PumpingPause.objects.exists()


# --- binding to the browser that asked -----------------------------------------------------------


def test_code_from_another_browser_is_refused_without_counting(sms_outbox):
    mine = services.send_code(PHONE, now=at(minutes=0)).challenge
    code = code_in(sms_outbox[-1])
    for guess in (code, wrong_code(code)):
        result = services.check_code(PHONE, guess, now=at(minutes=0.5), challenge="someone-else")
        assert result.outcome is CheckOutcome.WRONG_SESSION
    assert services.check_code(PHONE, code, now=at(minutes=0.5), challenge="").outcome is CheckOutcome.WRONG_SESSION
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0
    assert services.check_code(PHONE, code, now=at(minutes=1), challenge=mine).outcome is CheckOutcome.VERIFIED


def test_each_send_issues_a_new_challenge(sms_outbox):
    first = services.send_code(PHONE, now=at(minutes=0)).challenge
    second = services.send_code(PHONE, now=at(minutes=1)).challenge
    assert first and second and first != second
    code = code_in(sms_outbox[-1])
    assert services.check_code(PHONE, code, now=at(minutes=1), challenge=first).outcome is CheckOutcome.WRONG_SESSION

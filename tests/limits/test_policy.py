"""send_code and check_code under the abuse limits: each limit, the pumping brake, the browser binding."""

from __future__ import annotations

import logging

import pytest
from django.db.models import Sum

from tests.helpers import PHONE, at, code_in, wrong_code
from verification import services
from verification.limits import pumping
from verification.models import PhoneVerification, PumpingPause, PumpingTally, RateEvent
from verification.phone_numbers import range_of
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


def brake_count() -> int:
    return PumpingTally.objects.aggregate(sent=Sum("sent"))["sent"]


def test_a_failed_send_gives_back_everything_it_claimed(settings, sms_outbox, sms_down):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "2/1h"
    settings.OTP_SEND_LIMITS_PER_IP = settings.OTP_SEND_LIMITS_PER_SESSION = settings.OTP_SEND_BUDGET = "2/1h"
    settings.OTP_OUTAGE_FAILURES = 0
    working_backend = settings.SMS_BACKEND
    sms_down()
    for minute in range(5):
        result = services.send_code(PHONE, now=at(minutes=minute), client_ip="203.0.113.9", session_key="s1")
        assert result.outcome is SendOutcome.FAILED
    assert not RateEvent.objects.exists() and brake_count() == 0
    settings.SMS_BACKEND = working_backend
    # Nothing was consumed: every limit still allows its two sends.
    for minute in (5, 6):
        result = services.send_code(PHONE, now=at(minutes=minute), client_ip="203.0.113.9", session_key="s1")
        assert result.outcome is SendOutcome.SENT
    assert services.send_code(PHONE, now=at(minutes=7), client_ip="203.0.113.9").limit == "number"
    assert brake_count() == 2


# --- pumping brake ---------------------------------------------------------------------------------

#: A number range the tests pump: GB mobiles starting 7400.
PUMPED = "+447400"


def pump(count: int, start: float = 0, prefix: str = PUMPED, length: int = 13) -> None:
    """Send `count` codes, never verified, to numbers starting with `prefix` (E.164 numbers `length` long)."""
    for i in range(count):
        result = services.send_code(
            f"{prefix}{i:0{length - len(prefix)}d}", now=at(minutes=start + i * 0.1), client_ip=f"198.51.100.{i % 250}"
        )
        assert result.outcome is SendOutcome.SENT


def verify(phone: str, now, sms_outbox) -> None:
    """Have `phone` verified on the site at `now`: a known number from then on."""
    challenge = services.send_code(phone, now=now).challenge
    assert services.check_code(phone, code_in(sms_outbox[-1]), now=now, challenge=challenge).outcome is (
        CheckOutcome.VERIFIED
    )


def test_brake_pauses_one_range_and_spares_other_ranges_and_known_numbers(sms_outbox, caplog):
    known = "+447400999999"
    verify(known, at(hours=-3), sms_outbox)
    pump(20)
    result = services.send_code(f"{PUMPED}555555", now=at(minutes=5))
    assert (result.outcome, result.limit, result.retry_at) == (SendOutcome.RATE_LIMITED, "pumping", at(minutes=65))
    pause = PumpingPause.objects.get()
    assert (str(pause), pause.region, pause.sent, pause.verified) == ("+44 7400", "GB", 20, 0)
    assert "sms pumping brake: sends to +44 7400 (GB) paused until" in caplog.text
    # A person verified here before is never paused, even in the paused range.
    assert services.send_code(known, now=at(minutes=6)).outcome is SendOutcome.SENT
    # Other ranges of the same country, and other countries, are untouched.
    assert services.send_code("+447500123456", now=at(minutes=6)).outcome is SendOutcome.SENT
    assert services.send_code(US, now=at(minutes=6)).outcome is SendOutcome.SENT
    assert len(sms_outbox) == 1 + 20 + 3
    assert services.send_code(f"{PUMPED}555555", now=at(minutes=64)).limit == "pumping"
    # Recovery: once the pause is over, the range is judged on new traffic only.
    assert services.send_code(f"{PUMPED}555555", now=at(minutes=65)).outcome is SendOutcome.SENT


def test_known_numbers_neither_count_nor_dilute(sms_outbox):
    known = "+447400999999"
    verify(known, at(hours=-3), sms_outbox)
    # Verifying a number of one's own again and again does not buy unverified sends to its range.
    for minute in range(0, 10, 2):
        verify(known, at(minutes=minute), sms_outbox)
    assert not PumpingTally.objects.filter(minute__gte=at(hours=-2)).exists()
    pump(20, start=11)
    assert services.send_code(f"{PUMPED}555555", now=at(minutes=15)).limit == "pumping"


def test_region_is_part_of_the_range(settings, sms_outbox):
    # +1 is many regions: even judged whole (no prefix digits), a US range is not Canada's.
    settings.OTP_PUMPING_PREFIX_DIGITS = 0
    pump(20, prefix="+1415555", length=12)
    assert services.send_code("+12125550123", now=at(minutes=5)).limit == "pumping"
    assert services.send_code("+14165550123", now=at(minutes=5)).outcome is SendOutcome.SENT
    pause = PumpingPause.objects.get()
    assert (str(pause), pause.region) == ("+1", "US")


def test_brake_holds_off_while_enough_codes_are_verified(sms_outbox):
    for i in range(25):
        phone = f"{PUMPED}{i:06d}"
        result = services.send_code(phone, now=at(minutes=i))
        assert result.outcome is SendOutcome.SENT
        if i % 4 == 0:  # 7 of 25 verified: 28% > 20%
            code = code_in(sms_outbox[-1])
            assert services.check_code(phone, code, now=at(minutes=i)).outcome is CheckOutcome.VERIFIED
    assert not PumpingPause.objects.exists()


def test_brake_needs_the_minimum_sends_and_forgets_old_ones(sms_outbox):
    pump(19)
    # Over an hour later the first 19 are out of the window.
    pump(19, start=62, prefix="+447400100")
    assert not PumpingPause.objects.exists()


def test_resume_now_lifts_the_pause(sms_outbox):
    pump(20)
    assert services.send_code(f"{PUMPED}555555", now=at(minutes=5)).limit == "pumping"
    assert [str(p) for p in pumping.resume(PumpingPause.objects.all(), at(minutes=6))] == ["+44 7400"]
    assert services.send_code(f"{PUMPED}555555", now=at(minutes=6)).outcome is SendOutcome.SENT
    assert pumping.resume(PumpingPause.objects.all(), at(minutes=7)) == []


def test_brake_off_with_zero_min_sends(settings, sms_outbox):
    settings.OTP_PUMPING_MIN_SENDS = 0
    pump(30)
    assert not PumpingPause.objects.exists()


@pytest.mark.parametrize(
    ("digits", "phone", "expected"),
    [
        (4, "+447400123456", ("GB", "7400")),
        (4, "+14155552671", ("US", "4155")),
        (4, "+14165550123", ("CA", "4165")),
        (6, "+33612345678", ("FR", "612345")),
        (0, "+33612345678", ("FR", "")),
    ],
)
def test_a_number_range_is_its_region_and_leading_national_digits(settings, digits, phone, expected):
    settings.OTP_PUMPING_PREFIX_DIGITS = digits
    number_range = range_of(phone)
    assert (number_range.region, number_range.prefix) == expected


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

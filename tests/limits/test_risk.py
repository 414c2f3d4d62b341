"""The bot challenge's risk rule, signal by signal: each turns on at its threshold and not one send before,
for whom it is meant only; it claims nothing."""

from __future__ import annotations

import pytest

from tests.helpers import at, code_in
from tests.limits.test_counters import store  # noqa: F401 (the fixture: each test on the database and on Redis)
from verification import services
from verification.limits.risk import risk_signal
from verification.models import RateEvent
from verification.services import SendOutcome

pytestmark = pytest.mark.django_db

#: French mobiles of one range (+33 6123).
RANGE = [f"+336123456{i:02d}" for i in range(40)]
#: A French mobile of another range (+33 6987).
OTHER_RANGE = "+33698765432"
IP = "203.0.113.9"


@pytest.fixture(autouse=True)
def no_cooldown(settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0


def send(phone: str, minute: int = 0, *, client_ip: str | None = None) -> None:
    assert services.send_code(phone, at(minutes=minute), client_ip=client_ip).outcome is SendOutcome.SENT


def test_a_person_below_every_signal_is_not_risky(settings):
    send(RANGE[0], client_ip=IP)
    assert risk_signal(at(1), phone=RANGE[0], client_ip=IP) is None
    assert risk_signal(at(1), phone=RANGE[1], client_ip="198.51.100.7") is None
    assert risk_signal(at(1)) is None


@pytest.mark.usefixtures("store")
def test_number_signal_at_half_its_per_number_limit(settings):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "4/1h,20/1d"
    send(RANGE[0])
    assert risk_signal(at(minutes=1), phone=RANGE[0]) is None
    send(RANGE[0], 1)
    assert risk_signal(at(minutes=2), phone=RANGE[0]) == "number"
    # Only that number: another one, from the same range and client, is not risky.
    assert risk_signal(at(minutes=2), phone=RANGE[1]) is None
    # Once the sends leave the window, the signal is off again.
    assert risk_signal(at(minutes=62), phone=RANGE[0]) is None


def test_half_of_an_odd_limit_is_rounded_up(settings):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "5/1h"
    for minute in range(2):
        send(RANGE[0], minute)
    assert risk_signal(at(minutes=3), phone=RANGE[0]) is None
    send(RANGE[0], 2)
    assert risk_signal(at(minutes=3), phone=RANGE[0]) == "number"


@pytest.mark.usefixtures("store")
def test_ip_signal_at_half_a_per_ip_limit(settings):
    settings.OTP_SEND_LIMITS_PER_IP = "100/1d,6/1h"
    for i in range(2):
        send(RANGE[i], i, client_ip=IP)
    assert risk_signal(at(minutes=5), client_ip=IP) is None
    assert risk_signal(at(minutes=5), phone=RANGE[9], client_ip=IP) is None
    send(RANGE[2], 2, client_ip=IP)
    assert risk_signal(at(minutes=5), client_ip=IP) == "ip"
    assert risk_signal(at(minutes=5), phone=RANGE[9], client_ip=IP) == "ip"
    # Another client is not touched.
    assert risk_signal(at(minutes=5), phone=RANGE[9], client_ip="198.51.100.7") is None


def test_ip_signal_counts_an_ipv6_network_as_one_client(settings):
    settings.OTP_SEND_LIMITS_PER_IP = "2/1h"
    send(RANGE[0], client_ip="2001:db8:1:2::10")
    assert risk_signal(at(minutes=1), client_ip="2001:db8:1:2::99") == "ip"
    assert risk_signal(at(minutes=1), client_ip="2001:db8:1:3::99") is None


@pytest.mark.usefixtures("store")
def test_budget_signal_at_80_percent_of_the_site_budget(settings):
    settings.OTP_SEND_BUDGET = "10/1h"
    for i in range(7):
        send(RANGE[i], i)
    assert risk_signal(at(minutes=10), phone=OTHER_RANGE, client_ip="198.51.100.7") is None
    send(RANGE[7], 7)
    # Everyone, whatever the number or client.
    assert risk_signal(at(minutes=10), phone=OTHER_RANGE, client_ip="198.51.100.7") == "budget"
    assert risk_signal(at(minutes=10)) == "budget"


def test_no_budget_no_budget_signal(settings):
    settings.OTP_SEND_BUDGET = ""
    for i in range(8):
        send(RANGE[i], i)
    assert risk_signal(at(minutes=10), phone=OTHER_RANGE) is None


def test_range_signal_at_half_the_brakes_minimum_with_low_conversion(settings):
    settings.OTP_PUMPING_MIN_SENDS = 10
    settings.OTP_PUMPING_MIN_CONVERSION = 0.2
    for i in range(4):
        send(RANGE[i], i)
    assert risk_signal(at(minutes=5), phone=RANGE[20]) is None
    send(RANGE[4], 4)
    assert risk_signal(at(minutes=5), phone=RANGE[20]) == "range"
    # Another range of the same country is not touched.
    assert risk_signal(at(minutes=5), phone=OTHER_RANGE) is None


def test_range_signal_off_while_enough_codes_are_verified(settings, sms_outbox):
    settings.OTP_PUMPING_MIN_SENDS = 10
    settings.OTP_PUMPING_MIN_CONVERSION = 0.2
    for i in range(5):
        send(RANGE[i], i)
    assert services.check_code(RANGE[4], code_in(sms_outbox[4]), at(minutes=5)).outcome.value == "verified"
    # 1 of 5 verified: 20%, not under the brake's threshold.
    assert risk_signal(at(minutes=6), phone=RANGE[20]) is None
    send(RANGE[5], 6)
    # 1 of 6: under it.
    assert risk_signal(at(minutes=7), phone=RANGE[20]) == "range"
    # A number verified here before is a person: exempt, as from the brake.
    assert risk_signal(at(minutes=7), phone=RANGE[4]) is None


def test_range_signal_off_with_the_brake_off(settings):
    settings.OTP_PUMPING_MIN_SENDS = 0
    for i in range(5):
        send(RANGE[i], i)
    assert risk_signal(at(minutes=5), phone=RANGE[20]) is None


def test_asking_claims_nothing(settings):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "2/1h"
    send(RANGE[0], client_ip=IP)
    before = RateEvent.objects.count()
    for _ in range(5):
        assert risk_signal(at(minutes=1), phone=RANGE[0], client_ip=IP) == "number"
    assert RateEvent.objects.count() == before
    send(RANGE[0], 2, client_ip=IP)

"""Property-based: whatever is posted to whatever route, never a 500 and never an SMS to an invalid number."""

from __future__ import annotations

import phonenumbers
import pytest
from django.test import Client
from hypothesis import HealthCheck, given, strategies
from hypothesis import settings as hypothesis_settings

from tests.helpers import PHONE
from verification.limits.destinations import ALLOWED_TYPES

pytestmark = pytest.mark.django_db

FUZZ = hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ROUTES = ["/", "/verify/", "/verify/resend/", "/locked/", "/verified/", "/admin/login/"]

huge = strategies.builds(lambda ch, n: ch * n, strategies.characters(), strategies.integers(1_000, 200_000))
control = strategies.text(alphabet=strategies.characters(min_codepoint=0, max_codepoint=0x1F), max_size=40)
phone_like = strategies.from_regex(r"\A\+?[0-9０-９٠-٩ ()\-.]{0,24}\Z")
real_numbers = strategies.sampled_from(
    [PHONE, "+33 6 12 34 56 79", "+1 415 555 2671", "+1 900 555 0100", "+33 1 42 68 53 00", "+44 56 1234 5678"]
)
hostile = strategies.one_of(strategies.text(), control, huge, phone_like, real_numbers)


def assert_sms_only_to_mobiles(outbox) -> None:
    for message in outbox:
        number = phonenumbers.parse(message.to)
        assert phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in ALLOWED_TYPES
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == message.to


@pytest.fixture
def open_limits(settings):
    """Lift the IP, session and budget limits so valid numbers keep reaching the SMS path."""
    settings.OTP_SEND_LIMITS_PER_IP = ""
    settings.OTP_SEND_LIMITS_PER_SESSION = ""
    settings.OTP_SEND_BUDGET = ""


@FUZZ
@given(phone=hostile)
def test_phone_field(open_limits, sms_outbox, phone):
    sms_outbox.clear()
    response = Client().post("/", {"phone": phone})
    assert response.status_code in (200, 302, 429)
    if response.status_code == 200:
        assert sms_outbox == []
    assert_sms_only_to_mobiles(sms_outbox)


@FUZZ
@given(code=hostile)
def test_code_field(sms_outbox, code):
    browser = Client()
    browser.post("/", {"phone": PHONE})
    sent = len(sms_outbox)
    response = browser.post("/verify/", {"code": code})
    assert response.status_code in (200, 302)
    assert len(sms_outbox) == sent


@FUZZ
@given(
    route=strategies.sampled_from(ROUTES),
    method=strategies.sampled_from(["get", "post", "put", "delete", "head", "options", "patch"]),
    data=strategies.dictionaries(
        strategies.one_of(strategies.sampled_from(["phone", "code", "next"]), strategies.text(max_size=20)),
        hostile,
        max_size=4,
    ),
    started=strategies.booleans(),
)
def test_any_route_any_data(sms_outbox, route, method, data, started):
    browser = Client()
    if started:
        browser.post("/", {"phone": PHONE})
    before = list(sms_outbox)
    response = getattr(browser, method)(route, data)
    assert response.status_code < 500
    assert_sms_only_to_mobiles(sms_outbox[len(before) :])

"""Which numbers the send policy lets receive a code; checked first, before any row or SMS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.helpers import T0
from verification.limits.destinations import check_destination
from verification.limits.policy import claim_send
from verification.limits.refusal import Reason
from verification.models import PhoneVerification
from verification.phone_numbers import to_e164


def allowed(raw: str) -> bool:
    try:
        check_destination(to_e164(raw))
    except ValidationError:
        return False
    return True


def errors(raw: str) -> list[str]:
    with pytest.raises(ValidationError) as excinfo:
        check_destination(to_e164(raw))
    return [error.code for error in excinfo.value.error_list]


@pytest.mark.parametrize(
    "raw",
    [
        "+33 6 12 34 56 78",  # FR mobile
        "+1 415 555 2671",  # US: fixed line or mobile
        "+44 7911 123456",  # GB mobile
    ],
)
def test_mobile_numbers_are_allowed(raw):
    assert allowed(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "+33 1 42 68 53 00",  # FR fixed line
        "+1 900 555 0100",  # US premium rate
        "+1 800 555 0100",  # US toll free
        "+44 843 123 4567",  # GB shared cost
        "+44 7640 123456",  # GB pager
        "+44 55 1234 5678",  # GB UAN
        "+33 8 99 12 34 56",  # FR premium rate
    ],
)
def test_numbers_that_cannot_take_an_sms_are_refused(raw):
    assert errors(raw) == ["number_type_not_allowed"]


def test_voip_only_when_allowed(settings):
    voip = "+44 56 1234 5678"
    assert errors(voip) == ["voip_not_allowed"]
    settings.OTP_ALLOW_VOIP = True
    assert allowed(voip)


def test_allowed_countries(settings):
    settings.OTP_ALLOWED_COUNTRIES = ["US", "CA"]
    assert allowed("+1 415 555 2671")
    assert errors("+33 6 12 34 56 78") == ["country_not_allowed"]


def test_refusal_messages_are_plain():
    with pytest.raises(ValidationError) as excinfo:
        check_destination(to_e164("+1 900 555 0100"))
    assert excinfo.value.messages == ["This number can't receive text messages. Use a mobile number."]


@pytest.mark.django_db
def test_the_policy_refuses_a_destination_before_anything_is_stored(sms_outbox):
    refusal = claim_send(to_e164("+1 900 555 0100"), T0, client_ip="203.0.113.9", session_key="s")
    assert refusal.reason is Reason.DESTINATION and refusal.error.code == "number_type_not_allowed"
    assert not PhoneVerification.objects.exists() and sms_outbox == []

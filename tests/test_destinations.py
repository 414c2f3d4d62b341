from __future__ import annotations

import pytest

from verification.forms import PhoneForm


def errors(raw: str) -> list[str]:
    form = PhoneForm(data={"phone": raw})
    assert not form.is_valid()
    return [error.code for error in form.errors.as_data()["phone"]]


@pytest.mark.parametrize(
    "raw",
    [
        "+33 6 12 34 56 78",  # FR mobile
        "+1 415 555 2671",  # US: fixed line or mobile
        "+44 7911 123456",  # GB mobile
    ],
)
def test_mobile_numbers_are_allowed(raw):
    assert PhoneForm(data={"phone": raw}).is_valid()


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
    assert PhoneForm(data={"phone": voip}).is_valid()


def test_allowed_countries(settings):
    settings.OTP_ALLOWED_COUNTRIES = ["US", "CA"]
    assert PhoneForm(data={"phone": "+1 415 555 2671"}).is_valid()
    assert errors("+33 6 12 34 56 78") == ["country_not_allowed"]


def test_refusal_messages_are_plain():
    form = PhoneForm(data={"phone": "+1 900 555 0100"})
    form.is_valid()
    assert form.errors["phone"] == ["This number can't receive text messages. Use a mobile number."]

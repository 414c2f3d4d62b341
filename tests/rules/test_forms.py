from __future__ import annotations

import pytest

from verification.forms import CodeForm, PhoneForm


@pytest.mark.parametrize(
    "raw,region,e164",
    [
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+44 7911 123456", "US", "+447911123456"),
    ],
)
def test_phone_is_normalised_to_e164(settings, raw, region, e164):
    settings.OTP_DEFAULT_REGION = region
    form = PhoneForm({"phone": raw})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == e164


@pytest.mark.parametrize(
    "raw,code",
    [
        ("", "required"),
        ("(415) 555-2671", "no_country_code"),
        ("+1 415 555", "invalid_phone"),
        ("+33 1", "invalid_phone"),
        ("not a number", "invalid_phone"),
        ("+999 612345678", "invalid_phone"),
        ("+" + "9" * 39, "invalid_phone"),
        ("9" * 41, "max_length"),
    ],
)
def test_bad_phone_numbers_have_coded_errors(raw, code):
    form = PhoneForm({"phone": raw})
    assert not form.is_valid()
    assert form.has_error("phone", code)


@pytest.mark.parametrize("raw", ["123456", " 123456 ", "123 456", "123-456", "12 34 56", "123\u2013456"])
def test_code_separators_are_ignored(raw):
    form = CodeForm({"code": raw})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["code"] == "123456"


@pytest.mark.parametrize("raw", ["12345", "1234567", "12345a", "١٢٣٤٥٦", "１２３４５６", "+123456", "12.3456"])
def test_codes_that_are_not_six_ascii_digits_are_refused(raw):
    form = CodeForm({"code": raw})
    assert not form.is_valid()
    assert form.has_error("code", "invalid_code")


def test_code_length_follows_setting(settings):
    settings.OTP_LENGTH = 8
    assert CodeForm({"code": "12345678"}).is_valid()
    form = CodeForm({"code": "123456"})
    assert not form.is_valid() and "8 digits" in str(form.errors)

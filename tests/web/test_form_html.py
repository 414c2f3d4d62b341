"""The fields written in Python give exactly the HTML Django's form templates give, in every state."""

from __future__ import annotations

import pytest
from django.forms.boundfield import BoundField
from django.utils import translation

from verification.forms import CodeForm, PhoneForm


def by_templates(form, name: str) -> str:
    """Return the field group as Django's own templates render it."""
    return str(BoundField(form, form.fields[name], name).as_field_group())


def with_markup_error(form, name: str):
    form.is_valid()
    form.add_error(name, 'Not "<b>this</b>" & not that.')
    return form


FORMS = {
    "phone, empty": lambda: PhoneForm(),
    "phone, as the page starts it": lambda: PhoneForm(initial={"phone": "+33612345678", "country": "MX"}),
    "phone, invalid": lambda: PhoneForm({"phone": "abc", "country": "FR"}),
    "phone, missing": lambda: PhoneForm({"phone": "", "country": "ZZ"}),
    "phone, error with markup": lambda: with_markup_error(PhoneForm({"phone": '"><script>', "country": ""}), "phone"),
    "code, empty": lambda: CodeForm(),
    "code, wrong length": lambda: CodeForm({"code": "12"}),
    "code, error with markup": lambda: with_markup_error(CodeForm({"code": "123456"}), "code"),
    "code, no id": lambda: CodeForm(auto_id=False),
}


@pytest.mark.parametrize("language", ["en", "pt-br"])
@pytest.mark.parametrize("default_region", [None, "FR"])
@pytest.mark.parametrize("state", FORMS)
def test_field_groups_match_djangos_templates(settings, language, default_region, state):
    settings.OTP_DEFAULT_REGION = default_region
    with translation.override(language):
        form = FORMS[state]()
        if form.is_bound:
            form.is_valid()
        for name in form.fields:
            assert str(form[name].as_field_group()) == by_templates(form, name)


def test_visitors_country_is_the_one_option_selected():
    with translation.override("es"):
        html = str(PhoneForm(initial={"country": "MX"})["country"])
    assert html.count(" selected") == 1
    assert '<option value="MX" selected>México (+52)</option>' in html

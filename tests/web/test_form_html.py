"""The fields written in Python give the HTML Django's form templates give, in every state: the same elements,
attributes and text; only whitespace between tags may differ (the country list leaves out Django's newlines)."""

from __future__ import annotations

import copy
import functools
import re

import pytest
from django import forms
from django.forms.boundfield import BoundField
from django.utils import translation

from verification.forms import CodeForm, PhoneForm


def by_templates(form, name: str) -> str:
    """Return the field group as Django's own templates render it, the widget's included."""
    field = copy.deepcopy(form.fields[name])
    # Our widgets override only render(): Widget.render is Django's, through the widget's template.
    field.widget.render = functools.partial(forms.Widget.render, field.widget)
    return str(BoundField(form, field, name).as_field_group())


def tags(html: str) -> str:
    """Return `html` without the whitespace between its tags."""
    return re.sub(r">\s+<", "><", html)


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


#: The choice of way (a fieldset of radio buttons), shown when more than one is offered.
WAYS = {
    "ways, empty": lambda: PhoneForm(),
    "ways, one chosen": lambda: PhoneForm({"phone": "+33612345678", "country": "", "via": "call"}),
    "ways, unknown choice": lambda: PhoneForm({"phone": "+33612345678", "country": "", "via": "<b>fax</b>"}),
    "ways, error with markup": lambda: with_markup_error(PhoneForm({"phone": "x", "via": "sms"}), "via"),
    "ways, no id": lambda: PhoneForm(auto_id=False),
}


@pytest.mark.parametrize("language", ["en", "pt-br"])
@pytest.mark.parametrize("default_region", [None, "FR"])
@pytest.mark.parametrize("state", {**FORMS, **WAYS})
def test_field_groups_match_djangos_templates(settings, language, default_region, state):
    settings.OTP_DEFAULT_REGION = default_region
    settings.OTP_DELIVERY_METHODS = "sms,call,whatsapp"
    with translation.override(language):
        form = {**FORMS, **WAYS}[state]()
        if form.is_bound:
            form.is_valid()
        for name in form.fields:
            assert tags(str(form[name].as_field_group())) == tags(by_templates(form, name))


def test_visitors_country_is_the_one_option_selected():
    with translation.override("es"):
        html = str(PhoneForm(initial={"country": "MX"})["country"])
    assert html.count(" selected") == 1
    assert '<option value="MX" selected>México (+52)</option>' in html

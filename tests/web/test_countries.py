"""The country list: every region with a name in the page's language, and the one pre-selected."""

from __future__ import annotations

import phonenumbers
import pytest
from django.test import RequestFactory
from django.utils import translation

from verification import country_names
from verification.countries import country_choices, visitor_country
from verification.forms import PhoneForm


def test_every_supported_region_is_listed_by_name_with_its_calling_code():
    choices = dict(country_choices("en"))
    assert set(choices) == set(phonenumbers.SUPPORTED_REGIONS)
    assert choices["FR"] == "France (+33)"
    assert choices["US"] == "United States (+1)"
    assert choices["XK"] == "Kosovo (+383)"
    assert all(not label.startswith(region + " ") for region, label in choices.items())


@pytest.mark.parametrize(
    "language,region,label",
    [("fr", "DE", "Allemagne (+49)"), ("de", "AT", "Österreich (+43)"), ("pt-br", "DE", "Alemanha (+49)")],
)
def test_names_follow_the_language(language, region, label):
    assert dict(country_choices(language))[region] == label


def test_list_is_sorted_by_name_ignoring_accents():
    names = [label for _, label in country_choices("de")]
    assert names.index("Österreich (+43)") < names.index("Pakistan (+92)")
    assert names.index("Oman (+968)") < names.index("Österreich (+43)")


def test_active_language_is_the_default():
    with translation.override("es"):
        assert dict(country_choices())["DE"] == "Alemania (+49)"


@pytest.mark.parametrize(
    "accept_language,active,expected",
    [
        ("es-MX,es;q=0.9", "es", "MX"),
        ("fr", "fr", ""),  # a language alone names no country: guessing France could misroute a number
        ("en-ZZ,en-GB;q=0.8", "en", "GB"),
        ("", "pt-br", "BR"),
        ("de-de", "de", "DE"),
    ],
)
def test_visitor_country_comes_from_a_territory_the_visitor_names(accept_language, active, expected):
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE=accept_language)
    with translation.override(active):
        assert visitor_country(request) == expected


def test_default_region_setting_wins(settings):
    settings.OTP_DEFAULT_REGION = "US"
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="es-MX")
    assert visitor_country(request) == "US"


@pytest.mark.parametrize(
    "phone,country,default_region,e164",
    [
        ("06 12 34 56 78", "FR", None, "+33612345678"),
        ("06 12 34 56 78", "FR", "US", "+33612345678"),
        ("(415) 555-2671", "", "US", "+14155552671"),
        ("+44 7911 123456", "FR", None, "+447911123456"),  # a + ignores the list
    ],
)
def test_country_is_used_only_for_numbers_without_a_plus(settings, phone, country, default_region, e164):
    settings.OTP_DEFAULT_REGION = default_region
    form = PhoneForm({"phone": phone, "country": country})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == e164


def test_unknown_country_is_refused():
    form = PhoneForm({"phone": "06 12 34 56 78", "country": "ZZ"})
    assert not form.is_valid()
    assert form.has_error("country", "invalid_choice")


@pytest.mark.django_db
def test_phone_page_preselects_the_visitors_country(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es").content.decode()
    assert '<select name="country" autocomplete="country" id="id_country">' in page
    assert '<option value="MX" selected>México (+52)</option>' in page
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="" selected>None: my number starts with +</option>' in page


@pytest.mark.django_db
def test_country_from_the_page_turns_a_national_number_into_e164(client, sms_outbox):
    response = client.post("/", {"phone": "06 12 34 56 78", "country": "FR"})
    assert response.status_code == 302
    assert sms_outbox[-1].to == "+33612345678"


@pytest.mark.parametrize("locale", ["en", "es", "fr", "de", "pt_BR"])
def test_the_sites_languages_name_every_region_without_loading_babel(locale):
    stored = country_names._stored()[locale]
    assert set(stored) == set(phonenumbers.SUPPORTED_REGIONS)
    assert all(name and name != region for region, name in stored.items())


def test_other_languages_get_cldr_names_from_babel():
    assert dict(country_choices("it"))["DE"] == "Germania (+49)"
    assert dict(country_choices("es-mx"))["US"] == "Estados Unidos (+1)"
    # A language Babel does not know falls back to English rather than to region codes.
    assert dict(country_choices("xx"))["DE"] == "Germany (+49)"

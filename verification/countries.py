"""The country list of the phone form: names in the page's language with their calling codes."""

from __future__ import annotations

import functools
import unicodedata

import phonenumbers
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language, to_locale
from django.utils.translation.trans_real import parse_accept_lang_header

from verification import country_names
from verification.conf import app_settings


def _sort_key(name: str) -> str:
    """Return `name` without accents, so Österreich sorts with the O's."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(ch))


#: Each region's calling code, from phonenumbers' index of them: asking phonenumbers region by region would load the
#: numbering plans of all 245 regions into every worker (about 1.4 MiB) to build one list.
_CALLING_CODES = {
    region: code for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items() for region in regions
}


@functools.lru_cache(maxsize=16)
def _names_for(language: str) -> dict[str, str]:
    return country_names.names(to_locale(language))


@functools.lru_cache(maxsize=16)
def _choices_for(language: str) -> tuple[tuple[str, str], ...]:
    names = _names_for(language)
    choices = [
        (region, f"{names.get(region, region)} (+{_CALLING_CODES[region]})")
        for region in phonenumbers.SUPPORTED_REGIONS
    ]
    return tuple(sorted(choices, key=lambda choice: _sort_key(choice[1])))


def _language(language: str | None) -> str:
    return language or get_language() or settings.LANGUAGE_CODE


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """Return (region, "Name (+code)") pairs sorted by name in `language` (default: the active one)."""
    return list(_choices_for(_language(language)))


def region_name(region: str, language: str | None = None) -> str:
    """Return the name of an ISO region in `language` (default: the active one), or the code if it has none."""
    return _names_for(_language(language)).get(region, region)


def visitor_country(request: HttpRequest) -> str:
    """Return the region to pre-select: OTP_DEFAULT_REGION, else a territory the visitor's languages name, or ""."""
    if app_settings.default_region:
        return app_settings.default_region
    # Only an explicit territory ("es-MX", or the chosen "pt-br") counts: guessing Spain from "es"
    # would silently turn a Mexican number into a Spanish one.
    languages = [code for code, _ in parse_accept_lang_header(request.headers.get("Accept-Language", ""))]
    for code in [*languages, get_language() or ""]:
        territory = to_locale(code).partition("_")[2].upper()
        if territory in phonenumbers.SUPPORTED_REGIONS:
            return territory
    return ""

"""CLDR's names of the countries, by language: from a file made with Babel, or from Babel itself.

Babel unpickles a language's whole CLDR data (dates, currencies, units...) to give its territory names: about
9 MB per process for the site's five languages, which stay in memory. `country_names.json` holds just the
names, made from Babel by `make country-names` for the site's languages; other languages are read from Babel
at run time, once per language and process.

    python -m verification.country_names en es fr de pt_BR    # rewrite country_names.json
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import phonenumbers

NAMES_FILE = Path(__file__).with_name("country_names.json")
#: Used when Babel knows neither the language nor its base language.
FALLBACK_LOCALE = "en"


@functools.cache
def _stored() -> dict[str, dict[str, str]]:
    return json.loads(NAMES_FILE.read_text(encoding="utf-8"))


def names(locale: str) -> dict[str, str]:
    """Return region -> name in `locale` (e.g. "pt_BR"), or in its base language, or in English."""
    for candidate in (locale, locale.partition("_")[0], FALLBACK_LOCALE):
        if candidate in _stored():
            return _stored()[candidate]
        found = babel_names(candidate)
        if found:
            return found
    return {}


def babel_names(locale: str) -> dict[str, str]:
    """Return CLDR's name of every region phonenumbers supports in `locale`, read from Babel; {} if unknown."""
    from babel import Locale, UnknownLocaleError

    try:
        territories = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        return {}
    return {region: territories[region] for region in sorted(phonenumbers.SUPPORTED_REGIONS) if region in territories}


def write(locales: list[str]) -> None:
    """Rewrite the names file with the names of `locales` from Babel."""
    text = json.dumps({locale: babel_names(locale) for locale in locales}, ensure_ascii=False, indent=0)
    NAMES_FILE.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    write(sys.argv[1:])

"""The translation catalogs of the app and of the site: complete, not fuzzy, placeholders intact, compiled."""

from __future__ import annotations

import re

import polib
import pytest
from django.conf import settings
from django.utils.translation import to_locale

LOCALES = [to_locale(code) for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
MAKE_MESSAGES = "run `make messages`, translate what it reports, and commit the .po and .mo files"
#: The app's own catalog (shipped with it) and the site's (error pages).
FOLDERS = {"app": settings.BASE_DIR / "verification" / "locale", "site": settings.BASE_DIR / "locale"}
CATALOGS = [(folder, locale) for folder in FOLDERS for locale in LOCALES]


def catalog(locale: str, folder: str = "app") -> polib.POFile:
    return polib.pofile(str(FOLDERS[folder] / locale / "LC_MESSAGES" / "django.po"))


def forms_of(entry: polib.POEntry | polib.MOEntry) -> tuple[str, ...]:
    """Return the translations of an entry: one, or one per plural form."""
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


def test_every_language_but_english_has_a_catalog():
    assert LOCALES == ["es", "fr", "de", "pt_BR"]
    for folder, locale in CATALOGS:
        assert catalog(locale, folder).percent_translated() > 0


@pytest.mark.parametrize(("folder", "locale"), CATALOGS)
def test_catalog_has_no_untranslated_or_fuzzy_entries(folder, locale):
    po = catalog(locale, folder)
    assert not po.metadata_is_fuzzy, f"{locale}: the header is marked fuzzy; {MAKE_MESSAGES}"
    assert po.metadata["Language"] == locale
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == [], f"{locale}: untranslated; {MAKE_MESSAGES}"
    assert fuzzy == [], f"{locale}: fuzzy (check the translation, then remove the fuzzy flag)"


@pytest.mark.parametrize(("folder", "locale"), CATALOGS)
def test_translations_keep_the_placeholders(folder, locale):
    for entry in catalog(locale, folder).translated_entries():
        source = set(PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or "")))
        for translation in forms_of(entry):
            found = set(PLACEHOLDER.findall(translation))
            # A plural form may say "one" in words instead of %(n)d; an unknown name would crash at runtime.
            assert found <= source if entry.msgid_plural else found == source, f"{locale}: {translation!r}"


@pytest.mark.parametrize(("folder", "locale"), CATALOGS)
def test_compiled_catalog_matches_its_source(folder, locale):
    po = catalog(locale, folder)
    mo = polib.mofile(po.fpath[: -len(".po")] + ".mo")
    source = {(e.msgctxt, e.msgid): forms_of(e) for e in po.translated_entries()}
    compiled = {(e.msgctxt, e.msgid): forms_of(e) for e in mo if e.msgid}
    assert compiled == source, f"{locale}: django.mo is out of date; {MAKE_MESSAGES}"
    assert mo.metadata["Plural-Forms"] == po.metadata["Plural-Forms"]

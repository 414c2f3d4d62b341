"""The language switcher's options, written once per active language rather than looped over on every page."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info

register = template.Library()


@register.simple_tag
def language_options() -> SafeString:
    """Return an <option> per language in LANGUAGES, named in its own language, the active one selected."""
    return _options(get_language(), tuple(code for code, _ in settings.LANGUAGES))


@lru_cache(maxsize=64)
def _options(current: str | None, codes: tuple[str, ...]) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}" lang="{}"{}>{}</option>',
        (
            (
                code,
                code,
                mark_safe(" selected") if code == current else "",
                capfirst(get_language_info(code)["name_local"]),
            )
            for code in codes
        ),
    )

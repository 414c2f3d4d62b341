"""A <select> for the country list whose options are written once per language.

Django's Select renders each of the 246 options through a template; these options are plain text and a
value, and they change only with the language, so their HTML is built once per language and process and
the visitor's country is marked selected in that string.
"""

from __future__ import annotations

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from verification.form_html import html_attrs

#: Rendered options by language and choices callable.
_options: dict[tuple[str | None, object], str] = {}


class CountrySelect(forms.Select):
    """Render like forms.Select, for flat (value, label) choices given by a callable of the active language."""

    def use_required_attribute(self, initial) -> bool:
        # Select decides this by reading the first choice, which builds the whole list; an optional field
        # never gets `required`, whatever the choices.
        return self.is_required and super().use_required_attribute(initial)

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        options = self._options()
        for selected in self.format_value(value):
            option = f'<option value="{conditional_escape(selected)}">'
            options = options.replace(option, option[:-1] + " selected>", 1)
        final_attrs = html_attrs(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, mark_safe(final_attrs), mark_safe(options))

    def _options(self) -> str:
        source = getattr(self.choices, "func", None)
        key = (get_language(), source)
        if source is None or key not in _options:
            html = "".join(
                f'<option value="{conditional_escape(option)}">{conditional_escape(label)}</option>'
                for option, label in self.choices
            )
            if source is None:
                return html
            _options[key] = html
        return _options[key]

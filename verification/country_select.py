"""A <select> for the country list that renders its 246 options as one string.

Django's Select renders each option through a template, which made the phone page
ten times slower than the rest of the site; the options here are plain text and a
value, so escaping them directly gives the same HTML for a fraction of the cost.
"""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe


class CountrySelect(forms.Select):
    """Render like forms.Select, for flat choices of (value, label) only."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        selected = self.format_value(value)
        options = "".join(
            f'<option value="{conditional_escape(option)}"{" selected" if option in selected else ""}>'
            f"{conditional_escape(label)}</option>"
            for option, label in self.choices
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final_attrs), mark_safe(options))

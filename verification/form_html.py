"""Field groups and text inputs written out in Python, with the exact markup of Django's form templates.

`{{ form.phone.as_field_group }}` renders django/forms/field.html, which renders the label, the error list
and the widget through three more templates (and attrs.html for each): more than half of the phone page's
cost. These classes produce the same HTML directly (tests/web/test_form_html.py compares the two), so a
host that overrides those templates for its own forms is unaffected.
"""

from __future__ import annotations

from django import forms
from django.forms.boundfield import BoundField
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

#: A label ending in one of these gets no suffix; Django's own catalogs translate the string (not ours: a
#: variable, so makemessages does not collect it).
LABEL_PUNCTUATION = ":?.!"


def html_attrs(attrs: dict) -> str:
    """Return attributes as django/forms/widgets/attrs.html writes them: False left out, True as a bare name."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class FieldGroup(BoundField):
    """A bound field whose label, errors and field group are written without templates."""

    def as_field_group(self) -> SafeString:
        """Return the label (a legend in a fieldset), help text, errors and widget, as django/forms/field.html
        renders them."""
        help_text = ""
        if self.help_text:
            help_id = format_html(' id="{}_helptext"', self.auto_id) if self.auto_id else ""
            help_text = format_html('<div class="helptext"{}>{}</div>', help_id, mark_safe(self.help_text))
        rest = f"{help_text}\n{self._errors_html()}\n{self.as_widget()}"
        if self.use_fieldset:
            described = self.aria_describedby
            fieldset = html_attrs({"aria-describedby": described}) if described else ""
            legend = self.legend_tag() if self.label else ""
            return mark_safe(f"<fieldset{fieldset}>\n  {legend}\n\n{rest}</fieldset>")
        label = self.label_tag() if self.label else ""
        return mark_safe(f"{label}\n\n{rest}".strip())

    def label_tag(self, contents=None, attrs=None, label_suffix=None, tag=None) -> SafeString:
        """Return the <label> (or <legend>) as django/forms/label.html renders it (the suffix rules are Django's)."""
        plain = tag in (None, "label", "legend")
        if attrs or not plain or contents or label_suffix is not None or hasattr(self.form, "required_css_class"):
            return super().label_tag(contents, attrs, label_suffix, tag)
        contents = conditional_escape(self.label)
        suffix = self.field.label_suffix if self.field.label_suffix is not None else self.form.label_suffix
        if suffix and contents and contents[-1] not in gettext(LABEL_PUNCTUATION):
            contents = format_html("{}{}", contents, suffix)
        id_ = self.field.widget.attrs.get("id") or self.auto_id
        if not id_:
            return mark_safe(contents)
        id_for_label = self.field.widget.id_for_label(id_)
        label_attrs = html_attrs({"for": id_for_label}) if id_for_label else ""
        tag = tag or "label"
        return mark_safe(f"<{tag}{label_attrs}>{contents}</{tag}>")

    def _errors_html(self) -> str:
        """Return the field's errors as django/forms/errors/list/ul.html renders them."""
        errors = self.errors
        if not errors:
            return ""
        error_id = format_html(' id="{}_error"', errors.field_id) if errors.field_id else ""
        items = "".join(format_html("<li>{}</li>", error) for error in errors)
        return format_html('<ul class="{}"{}>{}</ul>', errors.error_class, error_id, mark_safe(items))


class TextInput(forms.TextInput):
    """A text input written without django/forms/widgets/input.html."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        value_attr = format_html(' value="{}"', str(widget["value"])) if widget["value"] is not None else ""
        return mark_safe(
            format_html('<input type="{}" name="{}"', widget["type"], widget["name"])
            + value_attr
            + html_attrs(widget["attrs"])
            + ">"
        )


class RadioSelect(forms.RadioSelect):
    """Radio buttons written without django/forms/widgets/multiple_input.html and an input template per option."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = []
        for group, group_options, _index in widget["optgroups"]:
            if group:
                return super().render(name, value, attrs, renderer)
            for option in group_options:
                label_for = html_attrs({"for": option["attrs"]["id"]}) if option["attrs"].get("id") else ""
                value_attr = format_html(' value="{}"', str(option["value"])) if option["value"] is not None else ""
                input_html = (
                    format_html('<input type="{}" name="{}"', option["type"], option["name"])
                    + value_attr
                    + html_attrs(option["attrs"])
                    + ">"
                )
                label = conditional_escape(option["label"])
                options.append(f"<div>\n    <label{label_for}>{input_html}\n {label}</label>\n\n</div>")
        id_attr = html_attrs({"id": widget["attrs"]["id"]}) if widget["attrs"].get("id") else ""
        class_attr = html_attrs({"class": widget["attrs"]["class"]}) if widget["attrs"].get("class") else ""
        return mark_safe(f"<div{id_attr}{class_attr}>{''.join(options)}\n</div>")

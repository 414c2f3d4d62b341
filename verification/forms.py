"""Forms that validate and normalise what people type; they never touch the database.

Whether a valid number may receive a code is the send policy's decision (verification.limits), not the form's.
"""

from __future__ import annotations

import re
from datetime import datetime

import phonenumbers
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from verification import test_numbers
from verification.conf import app_settings
from verification.countries import country_choices
from verification.country_select import CountrySelect
from verification.form_html import FieldGroup, RadioSelect, TextInput
from verification.phone_numbers import to_e164

#: How each way is offered on the phone page.
VIA_CHOICES = {
    "sms": _("Text message (SMS)"),
    "call": _("Voice call"),
    "whatsapp": _("WhatsApp"),
}

# Spaces and dashes are how codes get pasted ("123 456", "123-456"); they carry no meaning.
CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]")


class OneTimeCodeInput(TextInput):
    """A text input that comes back empty after a failed attempt, ready for the next try."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


def _country_choices() -> list[tuple[str, str]]:
    return [("", _("None: my number starts with +")), *country_choices()]


class CountryField(forms.ChoiceField):
    """The country list: a supported region, or nothing for a number typed with +."""

    def valid_value(self, value) -> bool:
        # The same answer as looking through the choices, without building the translated list.
        return value in phonenumbers.SUPPORTED_REGIONS


class PhoneForm(forms.Form):
    bound_field_class = FieldGroup

    # Declared first so clean_phone() can read it; the template shows it after the number.
    country = CountryField(
        label=_("Country"),
        required=False,
        choices=_country_choices,
        widget=CountrySelect(attrs={"autocomplete": "country"}),
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=40,
        error_messages={
            "required": _("Enter your mobile number."),
            "max_length": _("That is too long for a phone number."),
        },
        widget=TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "autofocus": True}),
    )

    #: Shown only when OTP_DELIVERY_METHODS offers more than one way (see __init__).
    via = forms.ChoiceField(
        label=_("How should we send your code?"),
        required=False,
        choices=(),
        widget=RadioSelect,
    )

    def __init__(self, *args, now: datetime | None = None, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        #: When the number is typed: test numbers (OTP_TEST_NUMBERS) are accepted until their end date.
        self.now = now or timezone.now()
        vias = app_settings.delivery_methods
        if len(vias) > 1:
            self.fields["via"].choices = [(via, VIA_CHOICES[via]) for via in vias]
            self.fields["via"].initial = vias[0]
        else:
            del self.fields["via"]
        if not app_settings.default_region:
            self.fields["phone"].help_text = _(
                "For example +33 6 12 34 56 78. Without + and a country code, choose your country below."
            )

    def clean_via(self) -> str:
        """Return the way chosen, the first one offered when none was."""
        return self.cleaned_data.get("via") or app_settings.delivery_methods[0]

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"]
        region = self.cleaned_data.get("country") or app_settings.default_region
        try:
            e164 = to_e164(raw, region)
        except phonenumbers.NumberParseException as exc:
            missing_country = exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
            if missing_country and not region and not raw.startswith("+"):
                raise forms.ValidationError(
                    _("Start with + and your country code, or choose your country."),
                    code="no_country_code",
                ) from exc
            raise forms.ValidationError(_("That is not a valid phone number."), code="invalid_phone") from exc
        except ValueError as exc:
            test_number = self._test_number(raw, region)
            if test_number:
                return test_number
            raise forms.ValidationError(_("That is not a valid phone number."), code="invalid_phone") from exc
        return e164

    def _test_number(self, raw: str, region: str | None) -> str | None:
        """Return a test number in E.164 (such as +15555550100, which no phone has), or None."""
        # A test number need not exist: 555-01xx numbers are reserved for fiction.
        number = phonenumbers.parse(raw, region)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return e164 if test_numbers.is_test_number(e164, self.now) else None


class CodeForm(forms.Form):
    bound_field_class = FieldGroup

    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        error_messages={"required": _("Enter the code from the text message.")},
        widget=OneTimeCodeInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["code"].error_messages["max_length"] = self.wrong_length_message()

    def wrong_length_message(self) -> str:
        """Return the error for anything that is not OTP_LENGTH digits."""
        return _("The code is %(length)d digits.") % {"length": app_settings.length}

    def clean_code(self) -> str:
        code = CODE_SEPARATORS.sub("", self.cleaned_data["code"])
        if not re.fullmatch(rf"[0-9]{{{app_settings.length}}}", code):
            raise forms.ValidationError(self.wrong_length_message(), code="invalid_code")
        return code

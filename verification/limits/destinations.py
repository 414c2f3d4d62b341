"""Which numbers may receive a code, and by which way: allowed ways, countries and number types, checked first.

Voice calls have their own countries (OTP_CALL_ALLOWED_COUNTRIES): toll fraud by calls aims at other countries
than SMS pumping. A call may also ring a landline, which cannot receive a text.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from verification.conf import app_settings

PhoneNumberType = phonenumbers.PhoneNumberType

#: Types that reach a person's phone; premium-rate, shared-cost, toll-free, pager, UAN, voicemail and unknown do not.
ALLOWED_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
#: A voice call also reaches a landline.
CALL_TYPES = ALLOWED_TYPES | {PhoneNumberType.FIXED_LINE}


def check_via(via: str) -> None:
    """Raise ValidationError (code via_not_enabled) unless OTP_DELIVERY_METHODS lists `via`."""
    if via not in app_settings.delivery_methods:
        raise ValidationError(_("Codes can't be sent this way here."), code="via_not_enabled")


def check_destination(e164: str, via: str = "sms") -> None:
    """Raise ValidationError (with a code the pages show) unless a code may be sent to this number by `via`."""
    check_via(via)
    number = phonenumbers.parse(e164)
    region = phonenumbers.region_code_for_number(number)
    allowed_countries = app_settings.allowed_countries
    if allowed_countries and region not in allowed_countries:
        raise ValidationError(_("We can't send codes to numbers in this country."), code="country_not_allowed")
    if via == "call":
        call_countries = app_settings.call_allowed_countries
        if call_countries and region not in call_countries:
            raise ValidationError(
                _("We can't call numbers in this country. Ask for the code another way."),
                code="call_country_not_allowed",
            )
    number_type = phonenumbers.number_type(number)
    if number_type == PhoneNumberType.VOIP:
        if app_settings.allow_voip:
            return
        # NIST SP 800-63B: numbers tied to a VoIP service must not be used for out-of-band codes.
        raise ValidationError(
            _("Internet phone (VoIP) numbers can't receive codes. Use a mobile number."), code="voip_not_allowed"
        )
    if number_type in CALL_TYPES and via == "call":
        return
    if number_type not in ALLOWED_TYPES:
        raise ValidationError(
            _("This number can't receive text messages. Use a mobile number."), code="number_type_not_allowed"
        )

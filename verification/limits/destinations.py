"""Which numbers may receive a code: allowed countries and number types, checked before any SMS."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from verification.conf import app_settings

PhoneNumberType = phonenumbers.PhoneNumberType

#: Types that reach a person's phone; premium-rate, shared-cost, toll-free, pager, UAN, voicemail and unknown do not.
ALLOWED_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def check_destination(e164: str) -> None:
    """Raise ValidationError (with a code the forms and pages show) unless a code may be sent to this number."""
    number = phonenumbers.parse(e164)
    allowed_countries = app_settings.allowed_countries
    if allowed_countries and phonenumbers.region_code_for_number(number) not in allowed_countries:
        raise ValidationError(_("We can't send codes to numbers in this country."), code="country_not_allowed")
    number_type = phonenumbers.number_type(number)
    if number_type == PhoneNumberType.VOIP:
        if app_settings.allow_voip:
            return
        # NIST SP 800-63B: numbers tied to a VoIP service must not be used for out-of-band codes.
        raise ValidationError(
            _("Internet phone (VoIP) numbers can't receive codes. Use a mobile number."), code="voip_not_allowed"
        )
    if number_type not in ALLOWED_TYPES:
        raise ValidationError(
            _("This number can't receive text messages. Use a mobile number."), code="number_type_not_allowed"
        )

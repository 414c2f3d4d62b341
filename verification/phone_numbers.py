"""Parse typed phone numbers into E.164 and mask them for display and logs."""

from __future__ import annotations

import re

import phonenumbers

MASK = "\u2022"


def to_e164(raw: str, region: str | None = None) -> str:
    """Return the number in E.164; raise phonenumbers.NumberParseException or ValueError if it is not valid."""
    number = phonenumbers.parse(raw, region)
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """Return the number in international format, e.g. +33 6 12 34 56 78."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask(e164: str) -> str:
    """Return the number in international format with all but its first group and last two digits hidden."""
    try:
        formatted = display(e164)
    except phonenumbers.NumberParseException:
        return MASK * 4
    country, _, national = formatted.partition(" ")
    first_group, separator, rest = re.match(r"(\d+)(\D?)(.*)", national).groups()
    digits_seen = sum(ch.isdigit() for ch in rest)
    masked, kept = [], 0
    for ch in rest:
        if ch.isdigit():
            kept += 1
            masked.append(ch if kept > digits_seen - 2 else MASK)
        else:
            masked.append(ch)
    return f"{country} {first_group}{separator}{''.join(masked)}"

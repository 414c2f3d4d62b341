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


#: Digits a number range leaves out: a block of 10,000 numbers, the unit operators are allotted numbers in.
RANGE_HIDDEN_DIGITS = 4


def region_of(e164: str) -> str:
    """Return the ISO region of a number (e.g. FR), or "" when it has none (non-geographic, invalid)."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return ""
    return region if region in phonenumbers.SUPPORTED_REGIONS else ""


def number_range(e164: str) -> str:
    """Return the block of numbers `e164` belongs to: the number without its last four digits."""
    return e164[:-RANGE_HIDDEN_DIGITS] if len(e164) > RANGE_HIDDEN_DIGITS + 1 else ""


def display_range(prefix: str) -> str:
    """Return a number range as people read it, its hidden digits as x: +33 6 12 34 xx xx."""
    try:
        formatted = display(prefix + "0" * RANGE_HIDDEN_DIGITS)
    except phonenumbers.NumberParseException:
        return prefix + "x" * RANGE_HIDDEN_DIGITS
    chars, hidden = list(formatted), 0
    for i in range(len(chars) - 1, -1, -1):
        if hidden < RANGE_HIDDEN_DIGITS and chars[i].isdigit():
            chars[i], hidden = "x", hidden + 1
    return "".join(chars)

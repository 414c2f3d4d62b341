"""Parse typed phone numbers into E.164, mask them for display and logs, and tell the range a number belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from verification.conf import app_settings

MASK = "\u2022"


def to_e164(raw: str, region: str | None = None) -> str:
    """Return the number in E.164; raise phonenumbers.NumberParseException or ValueError if it is not valid."""
    number = phonenumbers.parse(raw, region)
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
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


@dataclass(frozen=True)
class NumberRange:
    """Numbers of one region whose national number starts with `prefix`: what the pumping brake tallies and
    pauses, and what the dashboard groups by."""

    region: str
    prefix: str
    calling_code: int

    def __str__(self) -> str:
        return f"+{self.calling_code} {self.prefix}".rstrip()

    def rows(self) -> dict[str, str]:
        """Return the fields that select this range's tallies and pause."""
        return {"region": self.region, "prefix": self.prefix}


def range_of(e164: str) -> NumberRange:
    """Return the range a number belongs to: its region and the first OTP_PUMPING_PREFIX_DIGITS national digits."""
    region, national, calling_code = _parts(e164)
    return NumberRange(region, national[: app_settings.pumping_prefix_digits], calling_code)


@lru_cache(maxsize=4096)
def _parts(e164: str) -> tuple[str, str, int]:
    # A send parses its number several times (brake, audit): once is enough, and not while holding a lock.
    number = phonenumbers.parse(e164)
    national = phonenumbers.national_significant_number(number)
    region = phonenumbers.region_code_for_number(number) or phonenumbers.UNKNOWN_REGION
    return region, national, number.country_code

"""Test numbers: numbers that verify with a fixed code and get no SMS, for app store reviewers and end-to-end tests.

OTP_TEST_NUMBERS maps each number (E.164) to its code. Until OTP_TEST_NUMBERS_VALID_UNTIL has passed (the
whole of that day, in the site's time zone), a test number is sent nothing by any provider, its fixed code
becomes its live code, and no send limit, pumping brake, budget or bot challenge counts it; the lock after
wrong codes applies as to any number, and its events are marked as test events. After that date, or once
removed from the setting, it is an ordinary number again.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from verification.conf import app_settings


def in_force(now: datetime) -> bool:
    """Return whether test numbers are valid at `now`: some are set and their end date has not passed."""
    until = app_settings.test_numbers_valid_until
    return bool(app_settings.test_numbers) and (until is None or timezone.localdate(now) <= until)


def fixed_code(phone: str, now: datetime) -> str | None:
    """Return the fixed code of `phone` if it is a test number at `now`, else None."""
    numbers = app_settings.test_numbers
    if not numbers or phone not in numbers or not in_force(now):
        return None
    return numbers[phone]


def is_test_number(phone: str, now: datetime) -> bool:
    """Return whether `phone` is a test number at `now`."""
    return fixed_code(phone, now) is not None

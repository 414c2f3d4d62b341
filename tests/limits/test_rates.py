from __future__ import annotations

import pytest

from verification.limits.rates import Rate, parse_duration, parse_rates


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("1h", 3600), ("2d", 172800), ("3600", 3600), (" 5 m ", 300)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1w", "-1h", "1.5h", "0s", "10 minutes", "1h30m"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_rate_list():
    assert parse_rates("3/10m,10/1d") == (Rate(3, 600), Rate(10, 86400))
    assert parse_rates(" 5 / 1h , ") == (Rate(5, 3600),)


def test_empty_list_means_no_limit():
    assert parse_rates("") == ()


@pytest.mark.parametrize("text", ["5", "5/", "/1h", "0/1h", "five/1h", "5/1w", "5/1h;10/1d", "-1/1h"])
def test_bad_rate_lists_are_refused(text):
    with pytest.raises(ValueError):
        parse_rates(text)

"""Render durations the way the countdown script does, so pages read the same without JavaScript."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def clock(seconds: int) -> str:
    """Return whole seconds as m:ss, or h:mm:ss from an hour up."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def iso_seconds(moment) -> str:
    """Return an aware datetime in ISO 8601 to the second, as HTML's <time datetime> expects."""
    return moment.isoformat(timespec="seconds") if moment else ""

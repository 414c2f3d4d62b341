"""The admin banner that says the SMS budget is spent; only admin pages load it, so visitors pay nothing."""

from __future__ import annotations

from django import template
from django.utils import timezone

from verification.limits import counters

register = template.Library()


@register.inclusion_tag("verification/admin/send_budget_banner.html", takes_context=True)
def send_budget_banner(context) -> dict:
    """Return when the SMS budget refills if it is spent now, for staff only."""
    request = context.get("request")
    if request is None or not request.user.is_staff:
        return {"refills_at": None}
    return {"refills_at": counters.spent_until(counters.budget_limit(), timezone.now())}

"""The bot challenge's widget for forms the app does not draw: django-allauth's and django-two-factor-auth's.

`{% load otp_bot_challenge %}{% otp_bot_challenge %}` inside such a form shows the widget when a send from this
client would be screened now, or when the last one asked for in this session was refused for want of it (the
risk may lie with the number, which the page does not know before the form is sent).
"""

from __future__ import annotations

from django import template
from django.utils import timezone

from verification import bot_challenge
from verification.client_ip import client_ip
from verification.contrib.relay import challenge_asked

register = template.Library()


@register.inclusion_tag("verification/_bot_challenge.html", takes_context=True)
def otp_bot_challenge(context) -> dict:
    """Return the widget to show in the form this tag is in, or None."""
    request = context.get("request")
    if request is None:
        return {"bot_challenge": None}
    shown = bot_challenge.needed(timezone.now(), client_ip=client_ip(request))
    if shown is None and challenge_asked(request):
        shown = bot_challenge.widget()
    return {"bot_challenge": shown}

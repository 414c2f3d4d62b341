"""The site's Content-Security-Policy middleware: django-csp's, plus the bot challenge's sources when it is on."""

from __future__ import annotations

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.http import HttpRequest, HttpResponseBase

# The providers' module reads settings only: no models, so this loads in any project (and before apps are ready).
from verification.bot_challenge_providers import csp_sources


class CSPMiddleware(BaseCSPMiddleware):
    """Add the widget's script and frame origins (OTP_BOT_CHALLENGE) to the policy; nothing when it is off."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        sources = csp_sources()
        if sources:
            update = {directive: list(values) for directive, values in (parts.update or {}).items()}
            for directive, origins in sources.items():
                update[directive] = [*update.get(directive, []), *origins]
            parts.update = update
        return parts

"""Admin login throttling with django-axes, as the site configures it: the lockout page and the log line."""

from __future__ import annotations

import math
import re

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """Answer a locked-out login: 429 with Retry-After, the admin's look and the visitor's language."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    context = {
        **admin.site.each_context(request),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": math.ceil(seconds / 60),
    }
    response = render(request, "admin/login_locked.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def describe_attempt(username: str | None, ip_address: str | None, user_agent: str, path_info: str, request) -> str:
    """Describe a login attempt for the log, with the username's digits hidden: no phone number reaches the log."""
    return f"username={re.sub(r'[0-9]', '•', username or '')!r} client_ip={ip_address} path={path_info}"

"""A host project's authentication of API calls: `Authorization: Bearer <username>` names the caller.

Real hosts check a real token; this one only shows where a host puts the user the API should see.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model


class BearerAuthenticationMiddleware:
    """Set request.user from a bearer token, after Django's AuthenticationMiddleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        scheme, _, username = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer":
            request.user = get_user_model().objects.get(username=username)
        return self.get_response(request)

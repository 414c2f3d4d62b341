"""A gate for the host's views: through with a verified number, otherwise into the flow and back."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from verification.shortcuts import verified_phone


def redirect_to_verification(next_url: str) -> HttpResponseRedirect:
    """Return a redirect to the phone page that comes back to `next_url` once the number is verified."""
    return HttpResponseRedirect(f"{reverse('verification:phone')}?{urlencode({'next': next_url})}")


def phone_verification_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let a request through when verified_phone() has a number; send it to verify one first otherwise."""

    @wraps(view)
    def gate(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if verified_phone(request):
            return view(request, *args, **kwargs)
        return redirect_to_verification(request.get_full_path())

    return gate


class PhoneVerificationRequiredMixin:
    """The class-based form of phone_verification_required; list it before the view's base class."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not verified_phone(request):
            return redirect_to_verification(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)

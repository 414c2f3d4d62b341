"""A host project's URLs: the app under another prefix, two pages behind the gate, and no language switcher."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import View

from verification.decorators import PhoneVerificationRequiredMixin, phone_verification_required
from verification.shortcuts import verified_phone


@phone_verification_required
def orders(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"orders for {verified_phone(request)}")


class Payouts(PhoneVerificationRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(f"payouts for {verified_phone(request)}")


urlpatterns = [
    path("orders/", orders),
    path("payouts/", Payouts.as_view()),
    path("account/phone/", include("verification.urls")),
]

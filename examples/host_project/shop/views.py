"""The shop's pages: a public home page and an order page that needs a login and a verified number."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from verification.decorators import phone_verification_required
from verification.shortcuts import verified_phone


def home(request: HttpRequest) -> HttpResponse:
    """Show who is logged in and the number verified, if any."""
    return render(request, "shop/home.html", {"phone": verified_phone(request)})


@login_required
@phone_verification_required
def orders(request: HttpRequest) -> HttpResponse:
    """Show the orders page, which only people with a verified number may open."""
    return render(request, "shop/orders.html", {"phone": verified_phone(request)})

"""Two views: a small template, and the same template after writing one row in a transaction."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from bench.floor.models import Hit

ITEMS = ["one", "two", "three"]


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    """Render the small template."""
    return render(request, "floor/page.html", {"title": "Floor", "items": ITEMS})


@require_POST
def write(request: HttpRequest) -> HttpResponse:
    """Add one row in a transaction, then render the small template."""
    with transaction.atomic():
        Hit.objects.create(value=request.POST.get("value", "")[:40])
    return render(request, "floor/page.html", {"title": "Written", "items": ITEMS})

"""The site's URLs plus views that fail on purpose, so tests can see every error page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.shortcuts import render
from django.urls import path

from otpsite.urls import urlpatterns as site_urlpatterns


def bad_request(request):
    raise SuspiciousOperation("a request the site refuses")


def forbidden(request):
    raise PermissionDenied


def too_many_requests(request):
    return render(request, "429.html", status=429)


def server_error(request):
    raise RuntimeError("a bug that must never show its traceback")


urlpatterns = [
    path("test-errors/400/", bad_request),
    path("test-errors/403/", forbidden),
    path("test-errors/429/", too_many_requests),
    path("test-errors/500/", server_error),
    *site_urlpatterns,
]

"""Error pages in the site's look and the visitor's language, never a traceback."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


def assert_site_page(response, status: int, heading: str) -> str:
    page = response.content.decode()
    assert response.status_code == status
    assert f"<h1>{heading}</h1>" in page
    assert "verification/site.css" in page and '<main class="card">' in page
    assert "Traceback" not in page and "RuntimeError" not in page and "SuspiciousOperation" not in page
    return page


@pytest.mark.parametrize(
    "url,status,heading",
    [
        ("/test-errors/400/", 400, "Bad request"),
        ("/test-errors/403/", 403, "Access denied"),
        ("/no-such-page/", 404, "Page not found"),
        ("/test-errors/429/", 429, "Too many requests"),
        ("/test-errors/500/", 500, "Something went wrong"),
    ],
)
def test_each_error_has_its_page(url, status, heading):
    client = Client(raise_request_exception=False)
    page = assert_site_page(client.get(url), status, heading)
    assert '<a href="/">Back to the start</a>' in page


def test_unknown_host_is_a_400_page():
    assert_site_page(Client().get("/", HTTP_HOST="evil.example"), 400, "Bad request")


def test_server_error_page_needs_no_request_and_offers_no_form():
    page = assert_site_page(Client(raise_request_exception=False).get("/test-errors/500/"), 500, "Something went wrong")
    assert "<form" not in page  # no session or CSRF token exists here to post with


def test_csrf_failure_explains_that_cookies_are_needed():
    client = Client(enforce_csrf_checks=True)
    page = assert_site_page(client.post("/", {"phone": "+33 6 12 34 56 78"}), 403, "Cookies needed")
    assert "Make sure cookies are turned on for this site" in page


@pytest.mark.parametrize(
    "accept_language,url,status,heading",
    [("fr", "/no-such-page/", 404, "Page introuvable"), ("es", "/test-errors/500/", 500, "Algo salió mal")],
)
def test_error_pages_speak_the_visitors_language(accept_language, url, status, heading):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=accept_language)
    page = assert_site_page(client.get(url), status, heading)
    assert f'<html lang="{accept_language}">' in page


def test_favicon_ico_points_at_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/verification/favicon.svg"

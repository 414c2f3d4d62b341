"""Admin logins throttled (django-axes, as the site configures it): lockouts, their page, and their trace."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "a long password for tests only"
LOCKED = "Too many failed logins"


@pytest.fixture
def admin_account(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)


def login(password: str, *, username: str = "admin", ip: str = "203.0.113.9", **headers):
    return Client(REMOTE_ADDR=ip, **headers).post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_five_failures_lock_the_username_even_with_the_right_password(admin_account, frozen):
    for _ in range(4):
        assert login("wrong").status_code == 200
    assert login("wrong").status_code == 429
    locked = login(PASSWORD)
    assert locked.status_code == 429 and locked["Retry-After"] == "900"
    assert LOCKED in locked.content.decode() and "refused for 15 minutes" in locked.content.decode()
    # The username stays locked from any address: rotating addresses buys no guesses.
    assert login(PASSWORD, ip="198.51.100.1").status_code == 429
    frozen.shift(15 * 60 + 1)
    assert logged_in(login(PASSWORD))


def test_five_failures_lock_the_address_for_every_username(admin_account, frozen):
    for i in range(5):
        login("wrong", username=f"guess{i}")
    assert login(PASSWORD).status_code == 429
    assert logged_in(login(PASSWORD, ip="198.51.100.1"))


def test_a_success_clears_the_count(admin_account, frozen):
    for _ in range(4):
        login("wrong")
    assert logged_in(login(PASSWORD))
    for _ in range(4):
        assert login("wrong").status_code == 200
    assert logged_in(login(PASSWORD))


def test_behind_a_proxy_each_client_is_counted_apart(admin_account, settings, frozen):
    settings.OTP_TRUSTED_PROXY_COUNT = 1
    for i in range(5):
        login("wrong", username=f"guess{i}", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert login(PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert logged_in(login(PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1"))


def test_failures_are_listed_in_admin_and_logged_without_numbers(admin_account, admin_client, frozen, caplog):
    for _ in range(5):
        login("wrong", username="+33612345678")
    html = admin_client.get("/admin/axes/accessattempt/").content.decode()
    assert "+33612345678" in html and "203.0.113.9" in html
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("axes") and r.levelname == "WARNING"]
    assert any("login failure" in line for line in lines) and any("Locking out" in line for line in lines)
    assert "username='+•••••••••••' client_ip=203.0.113.9" in caplog.text
    assert "33612345678" not in caplog.text and "wrong" not in caplog.text


def test_the_lockout_page_speaks_the_visitors_language(admin_account, frozen):
    for _ in range(5):
        login("wrong")
    response = login(PASSWORD, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 429 and '<html lang="fr"' in response.content.decode()
    assert LOCKED not in response.content.decode()

"""The app as a guest: under another prefix, behind a host's gate, with only the middleware startproject gives."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.helpers import CODE_A, CODE_B, PHONE, at, fixed_codes
from verification.models import VerifiedPhone

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.host_urls")]

#: What `django-admin startproject` puts in MIDDLEWARE: no LocaleMiddleware, WhiteNoise or django-csp.
STARTPROJECT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


@pytest.fixture(autouse=True)
def startproject_middleware(settings):
    settings.MIDDLEWARE = STARTPROJECT_MIDDLEWARE


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password="a long password")


def verify_through_the_gate(client: Client, page: str, code: str = CODE_A, phone: str = PHONE):
    """Open a gated page, verify `phone` where the gate sends the browser, and return the final response."""
    gate = client.get(page)
    assert gate.status_code == 302 and gate["Location"] == f"/account/phone/?next={page.replace('/', '%2F')}"
    assert client.get(gate["Location"]).status_code == 200
    with fixed_codes([code]):
        assert client.post("/account/phone/", {"phone": phone})["Location"] == "/account/phone/verify/"
    back = client.post("/account/phone/verify/", {"code": code})
    assert back["Location"] == page
    return client.get(page)


@pytest.mark.parametrize("page", ["/orders/", "/payouts/"])
def test_gate_sends_into_the_flow_and_back(client, sms_outbox, page):
    response = verify_through_the_gate(client, page)
    assert response.status_code == 200 and response.content.decode().endswith(f"for {PHONE}")


def test_gate_keeps_the_query_string(client, sms_outbox):
    gate = client.get("/orders/?page=2")
    assert gate["Location"] == "/account/phone/?next=%2Forders%2F%3Fpage%3D2"


def test_pages_link_under_the_hosts_prefix_and_skip_the_missing_switcher(client, sms_outbox):
    html = client.get("/account/phone/").content.decode()
    assert 'action="/account/phone/"' in html
    assert "set_language" not in html and 'name="language"' not in html
    client.post("/account/phone/", {"phone": PHONE})
    html = client.get("/account/phone/verify/").content.decode()
    assert 'action="/account/phone/verify/"' in html and 'action="/account/phone/verify/resend/"' in html


def test_a_logged_in_users_number_opens_the_gate_in_any_browser(client, alice, sms_outbox):
    client.force_login(alice)
    verify_through_the_gate(client, "/orders/")
    row = VerifiedPhone.objects.get()
    assert (row.user, row.phone) == (alice, PHONE)

    elsewhere = Client()
    elsewhere.force_login(alice)
    response = elsewhere.get("/payouts/")
    assert response.status_code == 200 and response.content.decode() == f"payouts for {PHONE}"


def test_the_session_number_wins_over_the_users_latest(client, alice, sms_outbox):
    VerifiedPhone.objects.record(alice, "+14155552671", at(0))
    VerifiedPhone.objects.record(alice, "+14155552672", at(minutes=5))
    client.force_login(alice)
    assert client.get("/orders/").content.decode() == "orders for +14155552672"
    # Verified in this browser: that number, whatever the account verified elsewhere.
    client.get("/account/phone/?next=/orders/")
    with fixed_codes([CODE_B]):
        client.post("/account/phone/", {"phone": PHONE})
    client.post("/account/phone/verify/", {"code": CODE_B})
    assert client.get("/orders/").content.decode() == f"orders for {PHONE}"


def test_an_anonymous_browser_stores_no_row_and_another_browser_is_gated(client, sms_outbox):
    verify_through_the_gate(client, "/orders/")
    assert not VerifiedPhone.objects.exists()
    assert Client().get("/orders/").status_code == 302


def test_messages_without_message_middleware(client, settings, frozen, sms_outbox):
    settings.MIDDLEWARE = [m for m in STARTPROJECT_MIDDLEWARE if "messages" not in m]
    client.post("/account/phone/", {"phone": PHONE})
    # The second ask is in the cooldown: the view adds a message, which such a host cannot show.
    response = client.post("/account/phone/", {"phone": PHONE})
    assert response.status_code == 302 and response["Location"] == "/account/phone/verify/"
    assert client.get(response["Location"]).status_code == 200

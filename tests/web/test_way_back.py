"""The way back to the host: `?next=` kept for the whole flow, followed after success only when it stays on site."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.helpers import CODE_A, CODE_B, PHONE, fixed_codes

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "http://testserver.evil.example/",
    "javascript:alert(1)",
]


def verify(client, start: str = "/", phone: str = PHONE, **extra) -> str:
    """Start the flow at `start`, type the code sent, and return where the success redirects to."""
    assert client.get(start, **extra).status_code == 200
    with fixed_codes([CODE_A]):
        assert client.post("/", {"phone": phone}, **extra)["Location"] == "/verify/"
    response = client.post("/verify/", {"code": CODE_A}, **extra)
    assert response.status_code == 302
    return response["Location"]


def test_success_goes_back_to_next(client, sms_outbox):
    assert verify(client, "/?next=/shop/checkout/%3Fstep%3D2") == "/shop/checkout/?step=2"


def test_without_next_success_goes_to_the_verified_page(client, sms_outbox):
    assert verify(client) == "/verified/"


def test_next_survives_the_language_switcher_and_a_resend(client, frozen, sms_outbox):
    client.get("/?next=/orders/")
    with fixed_codes([CODE_A, CODE_B]):
        client.post("/", {"phone": PHONE})
        switched = client.post("/i18n/setlang/", {"language": "fr", "next": "/verify/"})
        assert switched["Location"] == "/verify/"
        frozen.shift(120)
        assert client.post("/verify/resend/")["Location"] == "/verify/"
    assert client.post("/verify/", {"code": CODE_B})["Location"] == "/orders/"


def test_the_switcher_on_the_phone_page_keeps_next(client):
    page = client.get("/?next=/orders/").content.decode()
    assert 'name="next" value="/?next=/orders/"' in page


@pytest.mark.parametrize("url", OFF_SITE)
def test_off_site_next_is_never_followed(client, sms_outbox, url):
    assert verify(client, "/?" + urlencode({"next": url})) == "/verified/"


def test_an_off_site_next_forgets_an_earlier_one(client, sms_outbox):
    client.get("/?next=/orders/")
    assert verify(client, "/?next=https://evil.example/") == "/verified/"


def test_next_is_used_once(client, frozen, sms_outbox):
    assert verify(client, "/?next=/orders/") == "/orders/"
    assert verify(client, "/", phone="+14155552671") == "/verified/"


def test_other_hosts_only_when_listed(client, settings, sms_outbox):
    assert verify(client, "/?next=https://shop.example/cart/") == "/verified/"
    settings.OTP_ALLOWED_REDIRECT_HOSTS = ["shop.example"]
    assert verify(client, "/?next=https://shop.example/cart/", phone="+14155552671") == "https://shop.example/cart/"


def test_a_secure_flow_never_goes_back_over_plain_http(client, sms_outbox):
    assert verify(client, "/?next=http://testserver/orders/", secure=True) == "/verified/"
    assert verify(client, "/?next=https://testserver/orders/", phone="+14155552671", secure=True) == (
        "https://testserver/orders/"
    )


@pytest.mark.parametrize(("value", "expected"), [("/welcome/", "/welcome/"), ("verification:phone", "/")])
def test_verified_redirect_url_is_a_path_or_a_url_name(client, settings, sms_outbox, value, expected):
    settings.OTP_VERIFIED_REDIRECT_URL = value
    assert verify(client) == expected
    assert verify(client, "/?next=/orders/", phone="+14155552671") == "/orders/"

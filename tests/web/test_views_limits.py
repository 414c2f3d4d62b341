"""What a person sees when a limit refuses, or when a code was asked for in another browser."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import PHONE, code_in
from verification.models import PhoneVerification

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


def test_refused_send_is_a_429_that_says_when(client, settings, frozen, sms_outbox):
    settings.OTP_SEND_LIMITS_PER_SESSION = "1/10m"
    assert client.post("/", {"phone": PHONE})["Location"] == "/verify/"
    frozen.shift(125)
    response = client.post("/", {"phone": "+33612345679"})
    assert response.status_code == 429
    assert response["Retry-After"] == str(600 - 125)
    html = page(response)
    assert "Too many codes asked for" in html and "You can ask for a code again in" in html and "7:55" in html
    assert "<script>" not in html and "style=" not in html
    assert len(sms_outbox) == 1
    # The refused number was not adopted by the session.
    assert client.session["verification_phone"] == PHONE


def test_resend_is_limited_too(client, settings, frozen, sms_outbox):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "2/1h"
    client.post("/", {"phone": PHONE})
    frozen.shift(121)
    assert client.post("/verify/resend/")["Location"] == "/verify/"
    record = PhoneVerification.objects.get(phone=PHONE)
    frozen.shift(121)
    response = client.post("/verify/resend/")
    assert response.status_code == 429 and response["Retry-After"] == str(3600 - 242)
    assert len(sms_outbox) == 2
    assert PhoneVerification.objects.get(phone=PHONE).code_hash == record.code_hash


def test_per_ip_limit_counts_the_forwarded_client(settings, frozen, sms_outbox):
    settings.OTP_TRUSTED_PROXY_COUNT = 1
    settings.OTP_SEND_LIMITS_PER_IP = "1/1h"
    behind_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    first = Client(HTTP_X_FORWARDED_FOR="203.0.113.9", **behind_proxy)
    assert first.post("/", {"phone": PHONE}).status_code == 302
    assert (
        Client(HTTP_X_FORWARDED_FOR="203.0.113.9", **behind_proxy).post("/", {"phone": "+33612345679"}).status_code
        == 429
    )
    assert (
        Client(HTTP_X_FORWARDED_FOR="203.0.113.10", **behind_proxy).post("/", {"phone": "+33612345679"}).status_code
        == 302
    )


def test_refused_destination_is_a_form_error(client, sms_outbox):
    response = client.post("/", {"phone": "+1 900 555 0100"})
    assert response.status_code == 200
    assert "This number can&#x27;t receive text messages" in page(response)
    assert sms_outbox == []


def test_code_typed_in_another_browser_sends_it_back_to_start(frozen, sms_outbox):
    victim, attacker = Client(), Client()
    victim.post("/", {"phone": PHONE})
    code = code_in(sms_outbox[-1])
    # The attacker asks for the same number: the cooldown sends nothing and binds nothing.
    assert attacker.post("/", {"phone": PHONE})["Location"] == "/verify/"
    response = attacker.post("/verify/", {"code": code}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "This code was asked for in another browser or tab" in page(response)
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0
    assert victim.post("/verify/", {"code": code})["Location"] == "/verified/"


def test_ipv6_addresses_of_one_network_share_the_per_ip_limit(settings, frozen, sms_outbox):
    settings.OTP_SEND_LIMITS_PER_IP = "1/1h"
    # One host with a /64 can use any of its 2**64 addresses: they are one client to the limit.
    assert Client(REMOTE_ADDR="2001:db8:a:b::1").post("/", {"phone": PHONE}).status_code == 302
    same_host = Client(REMOTE_ADDR="2001:db8:a:b:ffff:1234:5678:9abc").post("/", {"phone": "+33612345679"})
    assert same_host.status_code == 429
    # The neighbouring /64 is someone else.
    assert Client(REMOTE_ADDR="2001:db8:a:c::1").post("/", {"phone": "+33612345679"}).status_code == 302
    assert len(sms_outbox) == 2

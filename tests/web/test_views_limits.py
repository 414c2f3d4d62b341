"""What a person sees when a limit refuses, or when a code was asked for in another browser."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from tests.helpers import PHONE, code_in
from verification.models import PhoneVerification, PumpingTally, RateEvent, SentMessage, VerificationEvent

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


def table_sizes() -> dict[str, int]:
    return {
        "sessions": Session.objects.count(),
        "numbers": PhoneVerification.objects.count(),
        "events": VerificationEvent.objects.count(),
        "rate events": RateEvent.objects.count(),
        "pumping tallies": PumpingTally.objects.count(),
        "sent messages": SentMessage.objects.count(),
    }


def test_refused_send_is_a_429_that_says_when(client, settings, frozen, sms_outbox):
    settings.OTP_SEND_LIMITS_PER_IP = "1/10m"
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


def test_per_session_limit_counts_a_browser_once_it_has_a_session(client, settings, frozen, sms_outbox):
    settings.OTP_SEND_LIMITS_PER_SESSION = "1/1h"
    # The first send creates the session; a refused request would have created none.
    assert client.post("/", {"phone": PHONE})["Location"] == "/verify/"
    frozen.shift(125)
    assert client.post("/", {"phone": "+33612345679"})["Location"] == "/verify/"
    frozen.shift(125)
    response = client.post("/", {"phone": "+33612345670"})
    assert response.status_code == 429 and response["Retry-After"] == str(3600 - 125)


def test_refused_requests_without_cookies_write_at_most_one_row_per_key_and_hour(settings, frozen, sms_outbox):
    settings.OTP_SEND_LIMITS_PER_IP = "1/1h"
    assert Client().post("/", {"phone": PHONE}).status_code == 302
    before = table_sizes()
    statuses = Counter()
    stranger = Client()
    for i in range(1000):
        # A client that keeps no cookie, asking for new numbers (429), a premium number (refused destination)
        # and garbage (form error).
        stranger.cookies.clear()
        phone = [f"+336{i:08d}", "+1 900 555 0100", f"not a number {i}"][i % 3]
        statuses[stranger.post("/", {"phone": phone}).status_code] += 1
        frozen.shift(1)
    assert statuses == {429: 334, 200: 666}
    after = table_sizes()
    # The 334 refusals by the per-IP limit are one audit event, counted; nothing else grew.
    assert {name: after[name] - before[name] for name in after} == {
        "sessions": 0,
        "numbers": 0,
        "events": 1,
        "rate events": 0,
        "pumping tallies": 0,
        "sent messages": 0,
    }
    event = VerificationEvent.objects.get(kind="rate_limited")
    assert (event.limit, event.key, event.count) == ("ip", "127.0.0.1", 334)
    assert len(sms_outbox) == 1

from __future__ import annotations

import logging

import pytest
from django.test import Client

from tests.helpers import CODE_A, CODE_B, PHONE, code_in, fixed_codes, wrong_code
from verification.models import PhoneVerification

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(client, frozen, sms_outbox):
    """A browser that has asked for a code for PHONE; returns the code."""
    with fixed_codes([CODE_A]):
        response = client.post("/", {"phone": "+33 6 12 34 56 78"})
    assert response.status_code == 302 and response["Location"] == "/verify/"
    return code_in(sms_outbox[-1])


def page(response) -> str:
    return response.content.decode()


def test_phone_page_has_one_tel_field(client):
    response = client.get("/")
    assert response.status_code == 200
    html = page(response)
    assert 'name="phone"' in html and 'type="tel"' in html and 'autocomplete="tel"' in html
    assert "<script>" not in html and "onclick" not in html


def test_phone_is_normalised_to_e164_and_sent(client, frozen, sms_outbox):
    response = client.post("/", {"phone": "+33 6 12 34 56 78"})
    assert response.status_code == 302 and response["Location"] == "/verify/"
    assert [m.to for m in sms_outbox] == [PHONE]
    assert client.session["verification_phone"] == PHONE


def test_default_region_allows_national_format(client, settings, frozen, sms_outbox):
    settings.OTP_DEFAULT_REGION = "US"
    response = client.post("/", {"phone": "(415) 555-2671"})
    assert response.status_code == 302
    assert sms_outbox[0].to == "+14155552671"


def test_without_region_a_plus_is_required(client, sms_outbox):
    response = client.post("/", {"phone": "(415) 555-2671"})
    assert response.status_code == 200
    assert "country code" in page(response)
    assert sms_outbox == []


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "hello",
        "+1 555",
        "+33 6 12",
        "+999 123456789",
        "1" * 41,
        "+33\x00612345678",
        "+33 ６１２３４５６７８٠",
        "🙂" * 30,
    ],
)
def test_bad_numbers_rerender_with_an_error_and_send_nothing(client, sms_outbox, raw):
    response = client.post("/", {"phone": raw})
    assert response.status_code == 200
    assert 'class="errorlist' in page(response)
    assert sms_outbox == []
    assert not PhoneVerification.objects.exists()


def test_code_page_shows_masked_number_field_and_countdown(client, started):
    response = client.get("/verify/")
    assert response.status_code == 200
    html = page(response)
    assert "+33 6 •• •• •• 78" in html and PHONE not in html
    assert 'name="code"' in html and 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert "Code expires in" in html and "2:00" in html
    assert 'datetime="2026-03-01T12:02:00+00:00"' in html and 'data-seconds-left="120"' in html
    assert 'id="resend" disabled' in html


def test_countdown_is_rendered_from_server_time(client, started, frozen):
    frozen.shift(61)
    html = page(client.get("/verify/"))
    assert "0:59" in html and 'data-seconds-left="59"' in html


def test_code_page_without_a_flow_goes_home(client):
    response = client.get("/verify/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_second_request_in_cooldown_sends_nothing_and_says_when(client, started, frozen, sms_outbox):
    frozen.shift(30)
    response = client.post("/", {"phone": PHONE}, follow=True)
    assert response.redirect_chain == [("/verify/", 302)]
    assert "You can ask for a new one in 1:30" in page(response)
    assert len(sms_outbox) == 1


def test_correct_code_verifies_and_cycles_the_session(client, started):
    old_key = client.session.session_key
    response = client.post("/verify/", {"code": started})
    assert response.status_code == 302 and response["Location"] == "/verified/"
    assert client.session.session_key != old_key
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.verified_at is not None and record.code_hash == ""
    verified = client.get("/verified/")
    assert verified.status_code == 200 and "+33 6 12 34 56 78" in page(verified)


def test_pasted_code_with_spaces_or_dash_is_accepted(client, started):
    spaced = f"{started[:3]} {started[3:]}"
    assert client.post("/verify/", {"code": spaced})["Location"] == "/verified/"


def test_a_used_code_never_verifies_again(client, started, sms_outbox):
    second_browser = Client()
    assert second_browser.post("/", {"phone": PHONE})["Location"] == "/verify/"
    assert len(sms_outbox) == 1  # still in cooldown: no new code for the second browser
    assert client.post("/verify/", {"code": started})["Location"] == "/verified/"
    response = second_browser.post("/verify/", {"code": started})
    assert response.status_code == 200 and "expired" in page(response)


def test_wrong_code_says_so_and_counts(client, started):
    response = client.post("/verify/", {"code": wrong_code(started)})
    assert response.status_code == 200
    assert "OTP does not match" in page(response) and "2 attempts left" in page(response)
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 1


@pytest.mark.parametrize("raw", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "1" * 5000, "12\x003456"])
def test_malformed_codes_count_nothing(client, started, raw):
    response = client.post("/verify/", {"code": raw})
    assert response.status_code == 200
    assert 'class="errorlist' in page(response)
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0


def test_expired_code_says_expired_and_counts_nothing(client, started, frozen):
    frozen.shift(120)
    response = client.post("/verify/", {"code": started})
    assert response.status_code == 200
    assert "expired" in page(response) and "Ask for a new code" in page(response)
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0


def test_third_wrong_code_redirects_to_locked_page(client, started, frozen):
    bad = wrong_code(started)
    client.post("/verify/", {"code": bad})
    client.post("/verify/", {"code": bad})
    response = client.post("/verify/", {"code": bad})
    assert response.status_code == 302 and response["Location"] == "/locked/"
    locked = client.get("/locked/")
    assert locked.status_code == 200
    assert "Too many wrong codes" in page(locked) and "10:00" in page(locked)
    # The right code is refused now, and the code page itself sends people to the lock.
    assert client.post("/verify/", {"code": started})["Location"] == "/locked/"
    assert client.get("/verify/")["Location"] == "/locked/"


def test_lock_holds_for_a_new_browser(client, started, frozen, sms_outbox):
    for _ in range(3):
        client.post("/verify/", {"code": wrong_code(started)})
    fresh = Client()
    response = fresh.post("/", {"phone": PHONE})
    assert response.status_code == 302 and response["Location"] == "/locked/"
    assert "Too many wrong codes" in page(fresh.get("/locked/"))
    assert len(sms_outbox) == 1


def test_locked_page_offers_a_restart_when_the_lock_ends(client, started, frozen, sms_outbox):
    for _ in range(3):
        client.post("/verify/", {"code": wrong_code(started)})
    frozen.shift(600)
    html = page(client.get("/locked/"))
    assert "The lock on" in html and "Send a new code" in html
    response = client.post("/", {"phone": PHONE})
    assert response["Location"] == "/verify/" and len(sms_outbox) == 2


def test_resend_refused_during_cooldown(client, started, frozen, sms_outbox):
    frozen.shift(100)
    response = client.post("/verify/resend/", follow=True)
    assert response.redirect_chain == [("/verify/", 302)]
    assert "You can ask for a new one in 0:20" in page(response)
    assert len(sms_outbox) == 1


def test_resend_after_cooldown_replaces_the_code(client, started, frozen, sms_outbox):
    frozen.shift(120)
    html = page(client.get("/verify/"))
    assert 'id="resend" disabled' not in html
    with fixed_codes([CODE_B]):
        response = client.post("/verify/resend/", follow=True)
    assert "A new code is on its way" in page(response)
    assert len(sms_outbox) == 2
    new = code_in(sms_outbox[1])
    assert "OTP does not match" in page(client.post("/verify/", {"code": started}))
    assert client.post("/verify/", {"code": new})["Location"] == "/verified/"


def test_failed_send_shows_a_message_and_keeps_nothing(client, sms_down, sms_outbox):
    sms_down()
    response = client.post("/", {"phone": PHONE})
    assert response.status_code == 200
    assert "We couldn&#x27;t send the code right now, please try again" in page(response)
    assert "verification_phone" not in client.session
    assert PhoneVerification.objects.get(phone=PHONE).next_send_at is None


def test_failed_resend_keeps_the_live_code(client, settings, frozen, sms_down, sms_outbox):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 30
    client.post("/", {"phone": PHONE})
    code = code_in(sms_outbox[0])
    frozen.shift(30)
    sms_down()
    response = client.post("/verify/resend/", follow=True)
    assert "We couldn&#x27;t send the code right now, please try again" in page(response)
    assert 'id="resend" disabled' not in page(response)
    assert client.post("/verify/", {"code": code})["Location"] == "/verified/"


@pytest.mark.parametrize("url", ["/locked/", "/verified/", "/verify/"])
def test_pages_without_a_flow_redirect_home(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/"


def test_get_on_post_only_route_is_405(client):
    assert client.get("/verify/resend/").status_code == 405
    client.post("/", {"phone": PHONE})
    assert client.get("/verify/resend/").status_code == 405
    assert client.put("/verify/").status_code == 405


@pytest.mark.parametrize(
    "url,data", [("/", {"phone": PHONE}), ("/verify/", {"code": "123456"}), ("/verify/resend/", {})]
)
def test_post_without_csrf_token_is_403(url, data, sms_outbox):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(url, data)
    assert response.status_code == 403
    assert sms_outbox == []


def test_pages_are_not_cached(client, started):
    assert "no-cache" in client.get("/verify/")["Cache-Control"]


def test_code_never_reaches_the_database_or_logs(client, frozen, sms_outbox, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/", {"phone": PHONE})
    code = code_in(sms_outbox[0])
    client.post("/verify/", {"code": wrong_code(code)})
    client.post("/verify/", {"code": code})
    stored = [str(v) for v in PhoneVerification.objects.values().get()]
    assert not any(code in value for value in stored)
    assert not any(code in record.getMessage() for record in caplog.records)
    assert any("verified" in record.getMessage() for record in caplog.records)
    assert not any(PHONE in record.getMessage() for record in caplog.records)


def test_flow_through_twilio_backend(client, fake_twilio, frozen):
    response = client.post("/", {"phone": PHONE})
    assert response["Location"] == "/verify/"
    [request] = fake_twilio.requests
    assert request.form["To"] == PHONE and request.auth_ok
    code = code_in(request.form["Body"])
    assert client.post("/verify/", {"code": code})["Location"] == "/verified/"


def test_twilio_refusal_is_a_message_not_a_500(client, fake_twilio, caplog):
    fake_twilio.fail_with(21211, "The 'To' number is not a valid phone number.", 400)
    response = client.post("/", {"phone": PHONE})
    assert response.status_code == 200
    assert "This number can&#x27;t receive SMS." in page(response)
    assert "provider_code=21211" in caplog.text and PHONE not in caplog.text
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.code_hash == "" and record.next_send_at is None and record.failed_attempts == 0


def test_wrong_code_is_cleared_from_the_field(client, started):
    html = page(client.post("/verify/", {"code": wrong_code(started)}))
    assert wrong_code(started) not in html

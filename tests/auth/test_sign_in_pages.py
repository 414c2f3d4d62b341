"""Passwordless sign-in: a number, a code, and the account whose sign-in number it is is logged in."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.test import Client

from tests.helpers import CODE_A, CODE_B, PHONE, T0, code_in, fixed_codes, wrong_code
from verification.auth import numbers
from verification.models import PhoneVerification, SentMessage, VerificationEvent
from verification.signals import phone_signed_in

pytestmark = pytest.mark.django_db
UNKNOWN = "+33612345677"


@pytest.fixture
def alice():
    user = get_user_model().objects.create_user("alice", password="correct horse battery")
    numbers.set_sign_in_number(user, PHONE, T0)
    return user


def logged_in_as(client: Client):
    return client.get("/signed-in/").wsgi_request.user


def test_the_right_code_logs_in_the_numbers_account_and_goes_to_next(
    client, alice, frozen, sms_outbox, django_capture_on_commit_callbacks
):
    signed_in, logged_in = [], []
    phone_signed_in.connect(lambda **kw: signed_in.append(kw), weak=False, dispatch_uid="t1")
    user_logged_in.connect(lambda **kw: logged_in.append(kw["user"]), weak=False, dispatch_uid="t2")
    try:
        page = client.get("/sign-in/?next=/orders/")
        assert page.status_code == 200 and 'name="phone"' in page.content.decode()
        with fixed_codes([CODE_A]):
            response = client.post("/sign-in/", {"phone": "+33 6 12 34 56 78"})
        assert response["Location"] == "/sign-in/verify/" and [m.to for m in sms_outbox] == [PHONE]
        code_page = client.get("/sign-in/verify/").content.decode()
        assert 'name="code"' in code_page and 'autocomplete="one-time-code"' in code_page
        assert not logged_in_as(client).is_authenticated
        session_before = client.session.session_key
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/sign-in/verify/", {"code": CODE_A})
        assert response.status_code == 302 and response["Location"] == "/orders/"
    finally:
        phone_signed_in.disconnect(dispatch_uid="t1")
        user_logged_in.disconnect(dispatch_uid="t2")
    assert logged_in_as(client) == alice and client.session.session_key != session_before
    assert logged_in == [alice]
    assert [(s["user"], s["phone"], s["flow"], s["created"]) for s in signed_in] == [(alice, PHONE, "sign_in", False)]
    assert VerificationEvent.objects.filter(kind="signed_in", flow="sign_in", phone=PHONE).count() == 1


def test_an_off_site_next_is_dropped_for_login_redirect_url(client, alice, frozen, settings):
    settings.LOGIN_REDIRECT_URL = "/welcome/"
    client.get("/sign-in/?next=https://evil.example/")
    with fixed_codes([CODE_A]):
        client.post("/sign-in/", {"phone": PHONE})
    assert client.post("/sign-in/verify/", {"code": CODE_A})["Location"] == "/welcome/"


def test_wrong_codes_count_down_then_lock_like_the_verification_pages(client, alice, frozen, sms_outbox):
    with fixed_codes([CODE_A]):
        client.post("/sign-in/", {"phone": PHONE})
    bad = wrong_code(CODE_A)
    first = client.post("/sign-in/verify/", {"code": bad})
    assert first.status_code == 200 and "2 attempts left" in first.content.decode()
    assert "1 attempt left" in client.post("/sign-in/verify/", {"code": bad}).content.decode()
    third = client.post("/sign-in/verify/", {"code": bad})
    assert third["Location"] == "/sign-in/locked/"
    locked = client.get("/sign-in/locked/").content.decode()
    assert "Too many wrong codes" in locked and 'action="/sign-in/"' in locked
    # Locked means locked: the right code does not log in.
    assert client.post("/sign-in/verify/", {"code": CODE_A})["Location"] == "/sign-in/locked/"
    assert not logged_in_as(client).is_authenticated


def test_resend_sends_a_new_code_after_the_cooldown(client, alice, frozen, sms_outbox):
    with fixed_codes([CODE_A, CODE_B]):
        client.post("/sign-in/", {"phone": PHONE})
        assert client.post("/sign-in/resend/")["Location"] == "/sign-in/verify/"
        assert len(sms_outbox) == 1  # in the cooldown
        frozen.shift(121)
        client.post("/sign-in/resend/")
    assert [code_in(m) for m in sms_outbox] == [CODE_A, CODE_B]
    assert client.post("/sign-in/verify/", {"code": CODE_B})["Location"] == "/signed-in/"


def test_no_sms_goes_to_a_number_without_an_account(client, frozen, sms_outbox):
    response = client.post("/sign-in/", {"phone": UNKNOWN})
    assert response["Location"] == "/sign-in/verify/"
    assert sms_outbox == [] and not SentMessage.objects.exists()
    record = PhoneVerification.objects.get(phone=UNKNOWN)
    assert record.code_hash and record.flow == "sign_in"
    assert VerificationEvent.objects.filter(phone=UNKNOWN, kind="withheld").count() == 1


def test_sign_up_makes_the_account_of_an_unknown_number(
    client, frozen, sms_outbox, settings, django_capture_on_commit_callbacks
):
    settings.OTP_SIGN_UP = True
    created = []
    phone_signed_in.connect(lambda **kw: created.append(kw["created"]), weak=False, dispatch_uid="t3")
    try:
        client.post("/sign-in/", {"phone": UNKNOWN})
        assert [m.to for m in sms_outbox] == [UNKNOWN]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/sign-in/verify/", {"code": code_in(sms_outbox[0])})
        assert response["Location"] == "/signed-in/"
    finally:
        phone_signed_in.disconnect(dispatch_uid="t3")
    user = logged_in_as(client)
    assert user.get_username() == UNKNOWN and not user.has_usable_password()
    assert numbers.sign_in_number(user) == UNKNOWN and created == [True]


def test_without_sign_up_no_account_is_made(client, frozen, settings):
    client.post("/sign-in/", {"phone": UNKNOWN})
    for _ in range(3):
        client.post("/sign-in/verify/", {"code": CODE_A})
    assert get_user_model().objects.count() == 0 and not logged_in_as(client).is_authenticated


# No account enumeration: a number with an account and one without get the same answers.

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def answers(client: Client, phone: str, masked: str) -> list[tuple]:
    """Walk a sign-in with wrong codes; return each answer as (status, location, headers, page) with the number
    and per-request tokens blanked."""
    steps = [
        lambda: client.get("/sign-in/"),
        lambda: client.post("/sign-in/", {"phone": phone}),
        lambda: client.get("/sign-in/verify/"),
        lambda: client.post("/sign-in/verify/", {"code": "000000"}),
        lambda: client.post("/sign-in/resend/"),
        lambda: client.post("/sign-in/verify/", {"code": "000001"}),
        lambda: client.post("/sign-in/verify/", {"code": "000002"}),
        lambda: client.get("/sign-in/locked/"),
        lambda: client.post("/sign-in/", {"phone": phone}),
    ]
    out = []
    for step in steps:
        response = step()
        page = TOKEN.sub("", response.content.decode()).replace(masked, "MASKED").replace(phone, "PHONE")
        headers = {k: v for k, v in response.headers.items() if k not in ("Content-Length",)}
        cookies = sorted((name, morsel["httponly"], morsel["max-age"]) for name, morsel in response.cookies.items())
        out.append((response.status_code, response.get("Location"), headers, cookies, page))
    return out


def test_a_number_without_an_account_gets_the_same_answers_field_by_field(alice, frozen):
    from verification.phone_numbers import mask

    with fixed_codes(["111111", "222222"]):
        known = answers(Client(), PHONE, mask(PHONE))
    with fixed_codes(["111111", "222222"]):
        unknown = answers(Client(), UNKNOWN, mask(UNKNOWN))
    assert len(known) == len(unknown) == 9
    for step, (a, b) in enumerate(zip(known, unknown, strict=True)):
        assert a[:4] == b[:4], step
        assert a[4] == b[4], step
    # And the walk did what it says: attempts counted, then the lock.
    assert "2 attempts left" in known[3][4] and known[6][1] == "/sign-in/locked/"
    for phone in (PHONE, UNKNOWN):
        assert PhoneVerification.objects.get(phone=phone).failed_attempts == 3

"""The phone as a second factor: after a right password, a code to the account's own number; only then login()."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from tests.helpers import CODE_A, CODE_B, PHONE, T0, code_in, fixed_codes, wrong_code
from verification.auth import numbers
from verification.auth.remember import COOKIE_NAME
from verification.models import VerificationEvent

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
OTHER = "+33612345699"


@pytest.fixture
def alice():
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    numbers.set_sign_in_number(user, PHONE, T0)
    return user


@pytest.fixture
def carol():
    """A user without a sign-in number."""
    return get_user_model().objects.create_user("carol", password=PASSWORD)


def user_of(client: Client):
    return client.get("/signed-in/").wsgi_request.user


def password_step(client: Client, username: str = "alice", password: str = PASSWORD, path: str = "/login/"):
    with fixed_codes([CODE_A, CODE_B]):
        return client.post(path, {"username": username, "password": password, "next": "/orders/"})


def test_a_right_password_sends_a_code_and_logs_in_nobody_until_it_is_typed(client, alice, frozen, sms_outbox):
    response = password_step(client)
    assert response.status_code == 302 and response["Location"] == "/login/confirm/code/"
    assert [m.to for m in sms_outbox] == [PHONE]
    page = client.get("/login/confirm/code/").content.decode()
    assert "+33 6 •• •• •• 78" in page and PHONE not in page
    # No way to type another number, and no link to.
    assert 'name="phone"' not in page and "Use a different number" not in page
    session_before = client.session.session_key
    response = client.post("/login/confirm/code/", {"code": CODE_A})
    assert response["Location"] == "/orders/"
    assert user_of(client) == alice and client.session.session_key != session_before
    assert "verification_pending_login" not in client.session
    assert VerificationEvent.objects.filter(kind="signed_in", flow="second_factor").count() == 1


def test_the_pending_login_authenticates_no_request(client, alice, frozen, sms_outbox):
    password_step(client)
    for path in ("/signed-in/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302 and "login" in response["Location"], path
    assert client.get("/signed-in/").wsgi_request.user.is_anonymous
    assert "_auth_user_id" not in client.session


def test_wrong_codes_lock_and_never_log_in(client, alice, frozen, sms_outbox):
    password_step(client)
    bad = wrong_code(CODE_A)
    assert "2 attempts left" in client.post("/login/confirm/code/", {"code": bad}).content.decode()
    client.post("/login/confirm/code/", {"code": bad})
    assert client.post("/login/confirm/code/", {"code": bad})["Location"] == "/login/confirm/locked/"
    locked = client.get("/login/confirm/locked/").content.decode()
    assert "Too many wrong codes" in locked and 'name="phone"' not in locked
    assert client.post("/login/confirm/code/", {"code": CODE_A})["Location"] == "/login/confirm/locked/"
    assert user_of(client).is_anonymous


def test_the_pending_login_expires_with_the_code(client, alice, frozen, sms_outbox):
    password_step(client)
    frozen.shift(121)
    response = client.post("/login/confirm/code/", {"code": CODE_A})
    assert response["Location"] == "/login/"
    assert user_of(client).is_anonymous and "verification_pending_login" not in client.session


def test_once_the_login_expired_resend_sends_nothing(client, alice, frozen, sms_outbox):
    password_step(client)
    frozen.shift(121)
    assert client.post("/login/confirm/resend/", {"phone": OTHER})["Location"] == "/login/"
    assert [m.to for m in sms_outbox] == [PHONE]


def test_resend_within_the_code_lifetime(client, alice, frozen, sms_outbox, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 30
    password_step(client)
    frozen.shift(31)
    with fixed_codes([CODE_B]):
        assert client.post("/login/confirm/resend/", {"phone": OTHER})["Location"] == "/login/confirm/code/"
    assert [m.to for m in sms_outbox] == [PHONE, PHONE]
    frozen.shift(100)  # past the first code's end, within the second's
    assert client.post("/login/confirm/code/", {"code": CODE_B})["Location"] == "/orders/"
    assert user_of(client) == alice


def test_a_wrong_password_goes_through_authentication_and_axes_counts_it(client, alice, frozen, sms_outbox):
    response = password_step(client, password="wrong")
    assert response.status_code == 200 and sms_outbox == []
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 1
    assert "verification_pending_login" not in client.session


def test_a_user_without_a_number_logs_in_with_the_password(client, carol, sms_outbox):
    response = password_step(client, "carol")
    assert response["Location"] == "/orders/" and user_of(client) == carol and sms_outbox == []


def test_second_factor_required_makes_a_user_add_a_number_first(client, carol, alice, frozen, sms_outbox, settings):
    settings.OTP_SECOND_FACTOR_REQUIRED = True
    assert password_step(client, "carol")["Location"] == "/login/confirm/"
    assert user_of(client).is_anonymous
    form = client.get("/login/confirm/").content.decode()
    assert 'name="phone"' in form
    # Alice's number signs her in: not Carol's to take.
    taken = client.post("/login/confirm/", {"phone": PHONE})
    assert taken.status_code == 200 and "signs in to another account" in taken.content.decode() and not sms_outbox
    with fixed_codes([CODE_A]):
        assert client.post("/login/confirm/", {"phone": OTHER})["Location"] == "/login/confirm/code/"
    assert client.post("/login/confirm/code/", {"code": CODE_A})["Location"] == "/orders/"
    assert user_of(client) == carol and numbers.sign_in_number(carol) == OTHER


def test_a_failed_send_keeps_the_login_page_and_logs_in_nobody(client, alice, sms_down):
    sms_down()
    response = password_step(client)
    assert response.status_code == 200 and "couldn" in response.content.decode()
    assert user_of(client).is_anonymous and "verification_pending_login" not in client.session


# Remember this browser.


def test_a_remembered_browser_skips_the_code_until_the_password_changes(client, alice, frozen, sms_outbox, settings):
    settings.OTP_REMEMBER_BROWSER_DAYS = 30
    password_step(client)
    response = client.post("/login/confirm/code/", {"code": CODE_A, "remember": "on"})
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["max-age"] == 30 * 24 * 3600 and cookie["samesite"] == "Lax"
    client.post("/logout/")
    assert password_step(client)["Location"] == "/orders/" and len(sms_outbox) == 1
    client.post("/logout/")

    alice.set_password("another long passphrase")
    alice.save()
    response = password_step(client, password="another long passphrase")
    assert response["Location"] == "/login/confirm/code/" and len(sms_outbox) == 2
    assert user_of(client).is_anonymous


def test_a_new_sign_in_number_voids_the_remembered_browser(client, alice, frozen, sms_outbox, settings):
    settings.OTP_REMEMBER_BROWSER_DAYS = 30
    password_step(client)
    client.post("/login/confirm/code/", {"code": CODE_A, "remember": "on"})
    client.post("/logout/")
    numbers.set_sign_in_number(alice, OTHER, T0)
    assert password_step(client)["Location"] == "/login/confirm/code/"


def test_the_remembered_browser_ends_after_its_days(client, alice, frozen, sms_outbox, settings):
    settings.OTP_REMEMBER_BROWSER_DAYS = 1
    password_step(client)
    client.post("/login/confirm/code/", {"code": CODE_A, "remember": "on"})
    client.post("/logout/")
    frozen.shift(24 * 3600 + 1)
    assert password_step(client)["Location"] == "/login/confirm/code/"


def test_without_remember_days_there_is_no_checkbox_and_no_cookie(client, alice, frozen, sms_outbox):
    password_step(client)
    assert 'name="remember"' not in client.get("/login/confirm/code/").content.decode()
    response = client.post("/login/confirm/code/", {"code": CODE_A, "remember": "on"})
    assert COOKIE_NAME not in response.cookies


# The admin.


@pytest.fixture
def staff(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    return alice


def test_the_admin_login_asks_for_the_code_when_turned_on(client, staff, frozen, sms_outbox, settings):
    settings.OTP_ADMIN_SECOND_FACTOR = True
    page = client.get("/admin/login/")
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    with fixed_codes([CODE_A]):
        response = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD})
    assert response["Location"] == "/login/confirm/code/" and [m.to for m in sms_outbox] == [PHONE]
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.post("/login/confirm/code/", {"code": code_in(sms_outbox[0])})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_is_the_admins_own_when_off(client, staff, sms_outbox):
    response = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD})
    assert response["Location"] == "/admin/" and sms_outbox == []
    assert client.get("/admin/").status_code == 200


def test_axes_still_throttles_the_admin_password_step(client, staff, settings, sms_outbox):
    settings.OTP_ADMIN_SECOND_FACTOR = True
    for _ in range(5):
        client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429 and sms_outbox == []


def test_staff_without_a_number_add_one_before_the_admin_lets_them_in(client, carol, frozen, sms_outbox, settings):
    settings.OTP_ADMIN_SECOND_FACTOR = True
    carol.is_staff = carol.is_superuser = True
    carol.save()
    response = client.post("/admin/login/?next=/admin/", {"username": "carol", "password": PASSWORD})
    assert response["Location"] == "/login/confirm/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    with fixed_codes([CODE_A]):
        client.post("/login/confirm/", {"phone": OTHER})
    assert client.post("/login/confirm/code/", {"code": CODE_A})["Location"] == "/admin/"
    assert numbers.sign_in_number(carol) == OTHER and client.get("/admin/").status_code == 200

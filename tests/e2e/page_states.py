"""Every state a visitor can see, each built from a fresh page by a function of (page, sms outbox).

The accessibility and layout tests and `make screenshots` all walk STATES: a new state is one more
entry. Builders find fields and buttons by their ids and forms, not their words, so they work in every language.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable

from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.helpers import code_in, wrong_code
from verification.models import PhoneVerification, SentMessage
from verification.sms import receipts

#: The account the sign-in states use, and its password.
USERNAME, PASSWORD = "alice", "correct horse battery"

TYPED_PHONE = "+33 6 12 34 56 78"

StateBuilder = Callable[[Page, list], None]


def send_number(page: Page, phone: str) -> None:
    """Type a number on the phone page and send it."""
    page.goto("/")
    page.locator("#id_phone").fill(phone)
    page.locator("main form button[type=submit]").click()


def ask_for_code(page: Page, phone: str = TYPED_PHONE) -> None:
    """Type the number on the phone page, send it and land on the code page."""
    send_number(page, phone)
    expect(page).to_have_url(re.compile(r"/verify/$"))


def submit_code(page: Page, code: str) -> None:
    """Type a code on the code page and press its submit button."""
    page.locator("#id_code").fill(code)
    page.locator("form[action$='/verify/'] button[type=submit]").click()


def phone_form(page: Page, outbox: list) -> None:
    page.goto("/")


def phone_error(page: Page, outbox: list) -> None:
    send_number(page, "12")
    expect(page.locator("#id_phone_error")).to_be_visible()


def code_page(page: Page, outbox: list) -> None:
    ask_for_code(page)


def wrong_code_entered(page: Page, outbox: list) -> None:
    ask_for_code(page)
    submit_code(page, wrong_code(code_in(outbox[-1])))
    expect(page.locator("#id_code_error")).to_be_visible()


def code_expired(page: Page, outbox: list) -> None:
    ask_for_code(page)
    # The server decides expiry: end the code's life and the resend cooldown on its row, as two minutes would.
    PhoneVerification.objects.update(code_expires_at=timezone.now(), next_send_at=timezone.now())
    submit_code(page, code_in(outbox[-1]))
    expect(page.locator("#id_code_error")).to_be_visible()


def resend_refused(page: Page, outbox: list) -> None:
    ask_for_code(page)
    ask_for_code(page)
    expect(page.locator(".messages")).to_be_visible()


def locked(page: Page, outbox: list) -> None:
    ask_for_code(page)
    wrong = wrong_code(code_in(outbox[-1]))
    for _ in range(3):
        submit_code(page, wrong)
    expect(page).to_have_url(re.compile(r"/locked/$"))


def verified(page: Page, outbox: list) -> None:
    ask_for_code(page)
    submit_code(page, code_in(outbox[-1]))
    expect(page).to_have_url(re.compile(r"/verified/$"))


def send_failed(page: Page, outbox: list) -> None:
    # The file backend aimed at a file, not a folder: the provider is "down" for this one send.
    with (
        tempfile.NamedTemporaryFile() as blocker,
        override_settings(SMS_BACKEND="verification.sms.backends.filebased.SmsBackend", SMS_FILE_PATH=blocker.name),
    ):
        send_number(page, TYPED_PHONE)
        expect(page.locator("main form [role=alert], main form .errorlist").first).to_be_visible()


def delivery_trouble(page: Page, outbox: list) -> None:
    ask_for_code(page)
    # What an "undelivered" receipt from the provider leaves on the message log.
    SentMessage.objects.update(status=SentMessage.Status.UNDELIVERED, error_code="30003")
    page.reload()


def every_way() -> override_settings:
    """Return settings that offer every way a code may travel, for the states that show them."""
    return override_settings(OTP_DELIVERY_METHODS="sms,call,whatsapp")


def phone_ways(page: Page, outbox: list) -> None:
    with every_way():
        page.goto("/")
        expect(page.locator("input[name=via]")).to_have_count(3)


def code_called(page: Page, outbox: list) -> None:
    with every_way():
        page.goto("/")
        page.locator("#id_phone").fill(TYPED_PHONE)
        page.locator("input[name=via][value=call]").check()
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/verify/$"))
        expect(page.locator("#resend-sms")).to_be_disabled()


def call_not_answered(page: Page, outbox: list) -> None:
    with every_way():
        code_called(page, outbox)
        # What a "no-answer" call status leaves on the message log, and the resend it opens.
        SentMessage.objects.update(sid="CA" + "0" * 32)
        receipts.record_receipt("CA" + "0" * 32, "undelivered", now=timezone.now())
        page.reload()
        expect(page.locator("#resend-sms")).to_be_enabled()


def rate_limited(page: Page, outbox: list) -> None:
    # The per-session limit is 5 an hour, counted from the session the first code started: the seventh
    # number asked for from this browser is refused.
    for last_digit in range(6):
        ask_for_code(page, f"+33 6 12 34 56 7{last_digit}")
    with page.expect_response(lambda response: response.status == 429):
        send_number(page, "+33 6 12 34 56 76")


def not_found(page: Page, outbox: list) -> None:
    assert page.goto("/no-such-page/").status == 404


def cookies_off(page: Page, outbox: list) -> None:
    page.goto("/")
    page.context.clear_cookies()
    with page.expect_response(lambda response: response.status == 403):
        page.locator("#id_phone").fill(TYPED_PHONE)
        page.locator("main form button[type=submit]").click()


def account(with_number: bool = True):
    """Return the test account (made on first use), with TYPED_PHONE as its sign-in number unless told otherwise."""
    from django.contrib.auth import get_user_model

    from verification.auth import numbers
    from verification.phone_numbers import to_e164

    user = get_user_model().objects.filter(username=USERNAME).first()
    if user is None:
        user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    if with_number:
        numbers.set_sign_in_number(user, to_e164(TYPED_PHONE), timezone.now())
    return user


def sign_in_form(page: Page, outbox: list) -> None:
    page.goto("/sign-in/")


def ask_for_sign_in_code(page: Page, phone: str = TYPED_PHONE) -> None:
    """Type a number on the sign-in page, send it and land on its code page."""
    page.goto("/sign-in/")
    page.locator("#id_phone").fill(phone)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/sign-in/verify/$"))


def sign_in_code(page: Page, outbox: list) -> None:
    account()
    ask_for_sign_in_code(page)


def signed_in(page: Page, outbox: list) -> None:
    account()
    ask_for_sign_in_code(page)
    page.locator("#id_code").fill(code_in(outbox[-1]))
    page.locator("main form[action$='/sign-in/verify/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/signed-in/$"))


def login_form(page: Page, outbox: list) -> None:
    page.goto("/login/")


def log_in_with_password(page: Page, path: str = "/login/") -> None:
    """Type the account's username and password on a login page and send them."""
    page.goto(path)
    page.locator("#id_username").fill(USERNAME)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form[method=post] [type=submit]").first.click()


def second_factor_code(page: Page, outbox: list) -> None:
    account()
    # With remember-this-browser on, the page shows its checkbox too.
    with override_settings(OTP_REMEMBER_BROWSER_DAYS=30):
        log_in_with_password(page)
        expect(page).to_have_url(re.compile(r"/login/confirm/code/$"))


def second_factor_add_number(page: Page, outbox: list) -> None:
    account(with_number=False)
    with override_settings(OTP_SECOND_FACTOR_REQUIRED=True):
        log_in_with_password(page)
        expect(page).to_have_url(re.compile(r"/login/confirm/$"))


def error_page(status: int) -> StateBuilder:
    """Return a builder for the page of `status`, served by tests/error_urls.py."""

    def build(page: Page, outbox: list) -> None:
        assert page.goto(f"/test-errors/{status}/").status == status

    return build


#: name -> builder; names become screenshot file names.
STATES: dict[str, StateBuilder] = {
    "phone": phone_form,
    "phone-error": phone_error,
    "code": code_page,
    "wrong-code": wrong_code_entered,
    "expired": code_expired,
    "resend-refused": resend_refused,
    "locked": locked,
    "verified": verified,
    "send-failed": send_failed,
    "delivery-trouble": delivery_trouble,
    "rate-limited": rate_limited,
    "phone-ways": phone_ways,
    "code-called": code_called,
    "call-not-answered": call_not_answered,
    "404": not_found,
    "403-csrf": cookies_off,
    "400": error_page(400),
    "403": error_page(403),
    "429": error_page(429),
    "500": error_page(500),
    "sign-in": sign_in_form,
    "sign-in-code": sign_in_code,
    "signed-in": signed_in,
    "login": login_form,
    "second-factor-code": second_factor_code,
    "second-factor-add-number": second_factor_add_number,
}
#: The states of signing in with a phone (also in STATES).
SIGN_IN_STATES = ["sign-in", "sign-in-code", "signed-in", "login", "second-factor-code", "second-factor-add-number"]

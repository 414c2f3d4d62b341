"""Signing in with a phone in the browser: by code alone, password and code, the admin; axe and the keyboard."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.page_states import (
    PASSWORD,
    SIGN_IN_STATES,
    STATES,
    TYPED_PHONE,
    USERNAME,
    account,
    ask_for_sign_in_code,
    log_in_with_password,
)
from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_layout import assert_fits
from tests.helpers import code_in, wrong_code
from verification.conf import app_settings


def test_passwordless_sign_in_end_to_end(page, sms_outbox):
    account()
    page.goto("/sign-in/?next=/signed-in/%3Ffrom%3Dphone")
    page.get_by_label("Mobile number").fill(TYPED_PHONE)
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile(r"/sign-in/verify/$"))
    expect(page.locator("strong.phone")).to_have_text("+33 6 •• •• •• 78")
    code = code_in(sms_outbox[-1])
    page.get_by_label("Code", exact=True).fill(wrong_code(code))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#id_code_error")).to_contain_text("2 attempts left")
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/signed-in/\?from=phone$"))
    expect(page.get_by_role("heading", name="Signed in")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"signed in as {USERNAME}")
    # Signing out ends it.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/signed-in/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))


def test_password_then_code(page, sms_outbox):
    account()
    log_in_with_password(page)
    expect(page).to_have_url(re.compile(r"/login/confirm/code/$"))
    expect(page.locator("strong.phone")).to_have_text("+33 6 •• •• •• 78")
    expect(page.locator("#id_phone")).to_have_count(0)
    # The password alone is not a login.
    other = page.context.new_page()
    other.goto("/signed-in/")
    expect(other).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Code", exact=True).fill(code_in(sms_outbox[-1]))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Signed in")).to_be_visible()


def test_admin_login_with_the_second_factor(page, sms_outbox, settings):
    settings.OTP_ADMIN_SECOND_FACTOR = True
    user = account()
    user.is_staff = user.is_superuser = True
    user.save()
    log_in_with_password(page, "/admin/login/?next=/admin/")
    expect(page).to_have_url(re.compile(r"/login/confirm/code/$"))
    page.get_by_label("Code", exact=True).fill(code_in(sms_outbox[-1]))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_be_visible()


@pytest.mark.parametrize("state", SIGN_IN_STATES)
@pytest.mark.parametrize("width,language", [(320, "en"), (1280, "en"), (320, "fr"), (1280, "fr")])
def test_sign_in_pages_pass_axe(new_page, sms_outbox, state, width, language):
    page = new_page(viewport={"width": width, "height": 800}, locale=language)
    STATES[state](page, sms_outbox)
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert axe_violations(page) == []
    assert_fits(page)


def test_sign_in_with_the_keyboard_alone(page, sms_outbox):
    account()
    page.goto("/sign-in/")
    # Keys pressed before the autofocus lands are lost (a "+" once, on a loaded machine): wait for it.
    expect(page.get_by_label("Mobile number")).to_be_focused()
    page.keyboard.type(TYPED_PHONE)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Country")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send code")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sign-in/verify/$"))
    expect(page.get_by_label("Code", exact=True)).to_be_focused()
    page.keyboard.type(code_in(sms_outbox[-1]))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", name="Signed in")).to_be_visible()


def test_password_and_code_with_the_keyboard_alone(page, sms_outbox, settings):
    settings.OTP_REMEMBER_BROWSER_DAYS = 30
    account()
    page.goto("/login/")
    page.locator("#id_username").focus()
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login/confirm/code/$"))
    expect(page.get_by_label("Code", exact=True)).to_be_focused()
    page.keyboard.type(code_in(sms_outbox[-1]))
    page.keyboard.press("Tab")
    expect(page.get_by_role("checkbox")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Signed in")).to_be_visible()
    assert [c["name"] for c in page.context.cookies() if c["name"] == "otp_remember"] == ["otp_remember"]


def test_the_unknown_number_page_is_the_known_ones(new_page, sms_outbox, time_machine):
    account()
    # Both clocks stopped, the server's (live_server runs in this process) and each page's: the two pages are
    # served at different moments, and must not differ by the seconds left.
    moment = timezone.now().replace(microsecond=0)
    time_machine.move_to(moment, tick=False)
    known, unknown = new_page(), new_page()
    for page in (known, unknown):
        page.clock.set_fixed_time(moment)
    ask_for_sign_in_code(known)
    ask_for_sign_in_code(unknown, "+33 6 12 34 56 77")
    assert len(sms_outbox) == 1
    full = "{}:{:02d}".format(*divmod(app_settings.ttl_seconds, 60))
    for page in (known, unknown):
        expect(page.locator("[data-countdown-clock]").first).to_have_text(full)
    # What differs by design: tokens and the number.
    strip = re.compile(r'value="[^"]{20,}"|\+33 6 •• •• •• 7[78]')
    assert strip.sub("", known.content()) == strip.sub("", unknown.content())

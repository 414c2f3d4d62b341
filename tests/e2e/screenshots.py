"""`make screenshots`: every page state at phone and desktop widths; the admin's locked numbers and dashboard.

Not a test (pytest collects it only when named): pytest supplies the live server, a scratch database, the
in-memory SMS outbox and Chromium. The PNGs land in docs/screenshots/, where the README shows them.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.e2e.page_states import STATES, ask_for_code, submit_code
from tests.e2e.test_dashboard import open_dashboard
from tests.helpers import code_in, wrong_code

OUT = settings.BASE_DIR / "docs" / "screenshots"
WIDTHS = [390, 1280]
#: A few states in other languages, to show the translations.
TRANSLATED = [("code", "fr"), ("phone", "de"), ("locked", "pt-BR")]


def shoot(page: Page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUT / f"{name}.png", full_page=True, animations="disabled", caret="hide")


@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("width", WIDTHS)
def test_page_state(new_page, sms_outbox, state, width):
    page = new_page(viewport={"width": width, "height": 640}, locale="en")
    STATES[state](page, sms_outbox)
    shoot(page, f"{state}-{width}")


@pytest.mark.parametrize("state,language", TRANSLATED)
def test_translated_page_state(new_page, sms_outbox, state, language):
    page = new_page(viewport={"width": WIDTHS[0], "height": 640}, locale=language)
    STATES[state](page, sms_outbox)
    shoot(page, f"{state}-{language.lower()}-{WIDTHS[0]}")


def test_admin_list_of_locked_numbers(new_page, sms_outbox, django_user_model):
    for phone in ["+33 6 12 34 56 78", "+44 7911 123456", "+1 415 555 2671"]:
        page = new_page()
        ask_for_code(page, phone)
        code = code_in(sms_outbox[-1])
        if phone.startswith("+1"):
            submit_code(page, code)  # one verified number, for contrast
            continue
        for _ in range(3):
            submit_code(page, wrong_code(code))
        expect(page).to_have_url(re.compile(r"/locked/$"))
    django_user_model.objects.create_superuser("admin", "admin@example.com", "screenshots only")

    page = new_page(viewport={"width": WIDTHS[1], "height": 640}, locale="en")
    # Fold the admin's app list away, so the table gets the width.
    page.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    page.goto("/admin/login/?next=/admin/verification/phoneverification/%3Flocked%3Dyes")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("screenshots only")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("+33612345678")).to_be_visible()
    shoot(page, f"admin-locked-{WIDTHS[1]}")


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_dashboard(new_page, sms_outbox, django_user_model, width):
    page = new_page(viewport={"width": width, "height": 640}, locale="en")
    page.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    open_dashboard(page, sms_outbox, django_user_model)
    shoot(page, f"admin-dashboard-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_phone_page_with_bot_challenge(new_page, sms_outbox, settings, fake_siteverify, width):
    # The local stand-in for the provider's widget (tests have no internet), asked for every send.
    settings.OTP_BOT_CHALLENGE_WHEN = "always"
    page = new_page(viewport={"width": width, "height": 640}, locale="en")
    page.goto("/")
    page.locator("#id_phone").fill("+33 6 12 34 56 78")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("[data-standin-widget]")).to_be_visible()
    shoot(page, f"phone-bot-challenge-{width}")

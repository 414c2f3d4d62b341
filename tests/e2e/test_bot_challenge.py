"""The bot challenge in a real browser, under the site's strict CSP: a local stand-in for the provider's widget
script (served by the fake siteverify server, since tests have no internet) loads, and a solved widget sends."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.page_states import TYPED_PHONE
from tests.fakes.siteverify_server import STANDIN_PREFIX

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def challenge(settings, fake_siteverify, live_server):
    settings.OTP_BOT_CHALLENGE_WHEN = "always"
    fake_siteverify.hostname = urlsplit(live_server.url).hostname
    return fake_siteverify


def test_the_widget_loads_under_the_csp_and_a_solved_one_sends(page, sms_outbox, challenge):
    blocked = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto("/")
    widget = page.locator("[data-standin-widget]")
    expect(widget).to_be_visible()
    page.locator("#id_phone").fill(TYPED_PHONE)

    # Sent without solving it: the page says what to do, keeps the number, shows the widget again; no SMS.
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_text("Please confirm that you are not a robot")).to_be_visible()
    expect(page.locator("#id_phone")).to_have_value(TYPED_PHONE)
    assert sms_outbox == [] and challenge.requests == []

    page.locator("[data-standin-widget]").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/verify/$"))
    assert len(sms_outbox) == 1
    (check,) = challenge.requests
    assert check.form["response"].startswith(STANDIN_PREFIX) and check.form["secret"] == challenge.secret
    assert blocked == []


def test_without_javascript_the_page_says_why_and_sends_nothing(new_page, sms_outbox, challenge):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    # Chromium parses <noscript> as if scripts ran even when they are switched off, so the text is read from the page.
    assert "This check that you are not a robot needs JavaScript" in page.content()
    expect(page.locator("[data-standin-widget]")).to_have_count(0)
    page.locator("#id_phone").fill(TYPED_PHONE)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_text("Please confirm that you are not a robot")).to_be_visible()
    assert sms_outbox == []


def test_a_person_below_every_signal_sees_no_widget(page, settings, sms_outbox, fake_siteverify):
    page.goto("/")
    page.locator("#id_phone").fill(TYPED_PHONE)
    expect(page.locator(".bot-challenge")).to_have_count(0)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/verify/$"))
    expect(page.locator(".bot-challenge")).to_have_count(0)
    assert len(sms_outbox) == 1 and fake_siteverify.requests == []

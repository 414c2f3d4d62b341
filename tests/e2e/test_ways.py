"""Choosing how the code travels, and the offer of another way when a receipt says it did not arrive, in Chromium."""

from __future__ import annotations

import re

from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.page_states import TYPED_PHONE, ask_for_code
from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_countdown import freeze_page_clock
from tests.e2e.test_layout import assert_fits
from verification.models import SentMessage
from verification.sms import receipts

EVERY_WAY = {"OTP_DELIVERY_METHODS": "sms,call,whatsapp"}


def undelivered_receipt_arrives() -> None:
    """What Twilio's "undelivered" status callback does to the number's last message."""
    SentMessage.objects.update(sid="SM" + "1" * 32)
    receipts.record_receipt("SM" + "1" * 32, "undelivered", "30003", now=timezone.now())


def test_the_way_is_chosen_with_the_keyboard(page: Page, sms_outbox):
    with override_settings(**EVERY_WAY):
        page.goto("/")
        group = page.get_by_role("group", name="How should we send your code?")
        expect(group.get_by_role("radio")).to_have_count(3)
        expect(group.get_by_role("radio", name="Text message (SMS)")).to_be_checked()
        page.get_by_label("Mobile number").fill(TYPED_PHONE)
        # Tab through the country list into the group; arrow keys move the choice, Enter sends.
        page.get_by_role("radio", name="Text message (SMS)").focus()
        page.keyboard.press("ArrowDown")
        expect(group.get_by_role("radio", name="Voice call")).to_be_checked()
        expect(group.get_by_role("radio", name="Voice call")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/verify/$"))
        expect(page.locator(".sent-by")).to_have_text("We called +33 6 •• •• •• 78 and read the code out.")
        assert sms_outbox[-1].via == "call"


def test_one_way_shows_no_choice(page: Page):
    page.goto("/")
    expect(page.locator("input[name=via]")).to_have_count(0)


def test_an_undelivered_receipt_offers_the_other_ways_without_a_reload(page: Page, sms_outbox):
    with override_settings(**EVERY_WAY):
        freeze_page_clock(page)
        ask_for_code(page)
        alert = page.locator("[data-undelivered]")
        call = page.get_by_role("button", name="Call me instead")
        expect(alert).to_be_hidden()
        expect(call).to_be_disabled()
        page.evaluate("window.notReloaded = true")
        page.clock.run_for(5_000)
        expect(call).to_be_disabled()  # still waiting: nothing said otherwise
        undelivered_receipt_arrives()
        with page.expect_response(re.compile(r"/verify/status/$")):
            page.clock.run_for(5_000)
        expect(alert).to_be_visible()
        expect(alert).to_have_text(re.compile("could not be delivered"))
        expect(call).to_be_enabled()
        expect(page.get_by_role("button", name="Send by WhatsApp instead")).to_be_enabled()
        expect(page.get_by_role("button", name="Resend code")).to_be_enabled()
        assert page.evaluate("window.notReloaded") is True
        # Taking the offer with the keyboard places the call.
        call.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".sent-by")).to_have_text(re.compile("We called"))
        assert [m.via for m in sms_outbox] == ["sms", "call"]


def test_the_status_is_asked_no_more_than_every_five_seconds(page: Page, sms_outbox):
    with override_settings(**EVERY_WAY):
        freeze_page_clock(page)
        ask_for_code(page)
        asked = []
        page.on("request", lambda request: asked.append(request.url) if "/verify/status/" in request.url else None)
        page.clock.run_for(4_999)
        assert asked == []
        with page.expect_response(re.compile(r"/verify/status/$")):
            page.clock.run_for(1)
        with page.expect_response(re.compile(r"/verify/status/$")):
            page.clock.run_for(5_000)
        assert len(asked) == 2


def test_without_javascript_the_offer_shows_on_the_next_load(new_page, sms_outbox):
    page = new_page(java_script_enabled=False)
    with override_settings(**EVERY_WAY):
        ask_for_code(page)
        expect(page.get_by_role("button", name="Call me instead")).to_be_disabled()
        undelivered_receipt_arrives()
        page.reload()
        expect(page.locator("[data-undelivered]")).to_be_visible()
        page.get_by_role("button", name="Send by WhatsApp instead").click()
        expect(page.locator(".sent-by")).to_have_text(re.compile("by WhatsApp"))


def test_the_offer_passes_axe_and_fits_at_320px(new_page, sms_outbox):
    page = new_page(viewport={"width": 320, "height": 800})
    with override_settings(**EVERY_WAY):
        ask_for_code(page)
        undelivered_receipt_arrives()
        # axe-core needs running timers: the page's clock is left alone here (the poll is tested above).
        page.reload()
        expect(page.locator("[data-undelivered]")).to_be_visible()
        assert axe_violations(page) == []
        assert_fits(page)

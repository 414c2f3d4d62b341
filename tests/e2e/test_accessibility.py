"""WCAG 2.1 AA in the browser: axe-core on every page state, focus, keyboard, live regions, motion."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.page_states import STATES, TYPED_PHONE, ask_for_code, phone_error
from tests.e2e.test_countdown import freeze_page_clock
from tests.e2e.test_layout import assert_fits
from tests.helpers import code_in
from verification.models import PhoneVerification

AXE = Axe()
#: Every rule tagged for WCAG 2.0/2.1 A and AA, plus axe's best practices.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}


def axe_violations(page: Page) -> list[str]:
    """Return one line per axe-core violation on the page (axe.min.js is bundled: no network)."""
    results = AXE.run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
    ]


@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("width,language", [(320, "en"), (1280, "en"), (390, "pt-BR")])
def test_every_page_state_passes_axe(new_page, sms_outbox, state, width, language):
    page = new_page(viewport={"width": width, "height": 800}, locale=language)
    STATES[state](page, sms_outbox)
    expect(page.locator("html")).to_have_attribute("lang", language.lower())
    assert axe_violations(page) == []
    assert_fits(page)


def test_axe_finds_violations_when_there_are_some(page):
    page.goto("/")
    page.evaluate("document.querySelector('label[for=id_phone]').remove()")
    assert any(line.startswith("label") for line in axe_violations(page))


@pytest.mark.urls("tests.error_urls")
def test_each_page_has_its_own_title(new_page, sms_outbox):
    titles = {}
    for state in ["phone", "phone-error", "code", "locked", "verified", "404", "403-csrf", "400", "429", "500"]:
        page = new_page()
        STATES[state](page, sms_outbox)
        titles[state] = page.title()
        PhoneVerification.objects.all().delete()  # the next state starts with a number never seen
    assert len(set(titles.values())) == len(titles), titles
    assert titles["phone-error"].startswith("Error: ")


def test_errors_are_tied_to_their_field_which_gets_the_focus(page, sms_outbox):
    phone_error(page, sms_outbox)
    field = page.get_by_label("Mobile number")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    described_by = field.get_attribute("aria-describedby").split()
    messages = [page.locator(f"#{ident}").inner_text() for ident in described_by]
    assert "That is not a valid phone number." in messages

    ask_for_code(page)
    page.get_by_label("Code", exact=True).fill("12")
    page.keyboard.press("Enter")
    code = page.get_by_label("Code", exact=True)
    expect(code).to_be_focused()
    expect(code).to_have_attribute("aria-invalid", "true")
    error_id = code.get_attribute("aria-describedby")
    expect(page.locator(f"#{error_id}")).to_have_text("The code is 6 digits.")


def test_whole_flow_with_the_keyboard_alone(page, sms_outbox):
    page.goto("/")
    # The number field has the focus on arrival: type, Tab past the country list to the button, press Enter.
    # (Checked before typing: keys pressed before the focus lands are lost, a "+" once under a loaded machine.)
    expect(page.get_by_label("Mobile number")).to_be_focused()
    page.keyboard.type(TYPED_PHONE)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Country")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send code")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/verify/$"))

    expect(page.get_by_label("Code", exact=True)).to_be_focused()
    page.keyboard.type(code_in(sms_outbox[-1]))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Verify", exact=True)).to_be_focused()
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"/verified/$"))
    expect(page.get_by_role("heading", name="Phone verified")).to_be_visible()


def test_focus_is_visible(page):
    page.goto("/")
    page.keyboard.press("Tab")  # from the number field to the country list
    page.keyboard.press("Tab")
    button = page.get_by_role("button", name="Send code")
    expect(button).to_be_focused()
    outline = button.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert outline == "solid 3px"


def announcements_on(page: Page) -> list[str]:
    return page.evaluate("window.__announced")


RECORD_ANNOUNCEMENTS = """
window.__announced = [];
new MutationObserver((changes) => {
  for (const change of changes) {
    const region = change.target.closest ? change.target : change.target.parentElement;
    if (region.closest("[aria-live]")) window.__announced.push(region.closest("[aria-live]").textContent);
  }
}).observe(document.body, {subtree: true, childList: true, characterData: true});
"""


def test_countdown_is_announced_at_each_whole_minute_and_at_zero_only(page, sms_outbox):
    freeze_page_clock(page)
    ask_for_code(page)
    region = page.locator("p[data-countdown] [aria-live]")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_text("")
    page.evaluate(RECORD_ANNOUNCEMENTS)
    start = int(page.locator("p[data-countdown]").get_attribute("data-seconds-left"))

    page.clock.run_for((start - 61) * 1000)
    assert announcements_on(page) == []  # a minute and a second left: nothing said yet
    page.clock.run_for(1000)
    assert announcements_on(page) == ["Code expires in 1:00"]
    page.clock.run_for(59_000)
    assert announcements_on(page) == ["Code expires in 1:00"]
    page.clock.run_for(1000)
    assert announcements_on(page) == [
        "Code expires in 1:00",
        "Your code has expired. Ask for a new one below.",
    ]
    page.clock.run_for(120_000)
    assert len(announcements_on(page)) == 2


def test_locked_countdown_announces_minutes_then_the_end(page, sms_outbox):
    freeze_page_clock(page)
    STATES["locked"](page, sms_outbox)
    page.evaluate(RECORD_ANNOUNCEMENTS)
    start = int(page.locator("[data-countdown]").get_attribute("data-seconds-left"))
    page.clock.run_for(start * 1000)
    said = announcements_on(page)
    assert said[-1] == "The lock has ended."
    assert said[:-1] == [f"Try again in {minutes}:00" for minutes in range((start - 1) // 60, 0, -1)]


@pytest.mark.parametrize("motion,duration", [("no-preference", "0.15s"), ("reduce", "0s")])
def test_reduced_motion_turns_transitions_off(new_page, motion, duration):
    page = new_page(reduced_motion=motion)
    page.goto("/")
    button = page.get_by_role("button", name="Send code")
    assert button.evaluate("el => getComputedStyle(el).transitionDuration") == duration

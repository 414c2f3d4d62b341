"""Mobile first: every width from a small phone to a desktop, 200 % zoom, the right keyboards, pasted codes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.page_states import STATES, ask_for_code
from tests.helpers import code_in


def assert_fits(page: Page) -> None:
    """Fail if the page scrolls sideways or any element sticks out of the viewport."""
    sizes = page.evaluate(
        """() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          widest: Math.max(...[...document.body.querySelectorAll("*")].map((el) => el.getBoundingClientRect().right)),
        })"""
    )
    assert sizes["scroll"] <= sizes["client"], f"{page.url} scrolls sideways: {sizes}"
    assert sizes["widest"] <= sizes["client"], f"{page.url} has content past the edge: {sizes}"


# 640 px is a 1280 px window at 200 % zoom; 320 px is the narrowest phone (and 1280 px at 400 %).
@pytest.mark.parametrize("width", [320, 390, 640, 1280])
@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("state", ["phone-error", "wrong-code", "locked", "resend-refused"])
def test_no_sideways_scrolling_from_320_to_1280_px(new_page, sms_outbox, width, language, state):
    page = new_page(viewport={"width": width, "height": 700}, locale=language)
    STATES[state](page, sms_outbox)
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_fits(page)


def test_fields_bring_up_the_right_keyboard_and_autofill(page):
    page.goto("/")
    phone = page.get_by_label("Mobile number")
    expect(phone).to_have_attribute("type", "tel")
    expect(phone).to_have_attribute("autocomplete", "tel")
    ask_for_code(page)
    code = page.get_by_label("Code", exact=True)
    expect(code).to_have_attribute("inputmode", "numeric")
    expect(code).to_have_attribute("autocomplete", "one-time-code")


@pytest.mark.parametrize("separator", [" ", "-"])
def test_a_pasted_code_with_a_space_or_dash_is_accepted(new_page, sms_outbox, separator):
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    ask_for_code(page)
    code = code_in(sms_outbox[-1])
    pasted = f"{code[:3]}{separator}{code[3:]}"
    page.evaluate("text => navigator.clipboard.writeText(text)", pasted)
    field = page.get_by_label("Code", exact=True)
    field.focus()
    page.keyboard.press("ControlOrMeta+V")
    expect(field).to_have_value(pasted)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/verified/$"))


def test_favicon_is_linked_and_served(page):
    page.goto("/")
    icon = page.locator("link[rel=icon]")
    expect(icon).to_have_attribute("type", "image/svg+xml")
    response = page.request.get(icon.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "image/svg+xml"
    response = page.request.get("/favicon.ico")
    assert response.ok and response.headers["content-type"] == "image/svg+xml"

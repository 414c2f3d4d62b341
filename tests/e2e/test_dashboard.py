"""The admin dashboard in Chromium: axe, a phone's width, the site's CSP, words for screen readers."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import AXE, AXE_OPTIONS
from tests.e2e.test_layout import assert_fits
from tests.helpers import make_traffic

PASSWORD = "dashboard tests only"


def open_dashboard(page: Page, outbox: list, django_user_model, window: str = "1h") -> None:
    """Make an hour of traffic, log in as a superuser and open the dashboard on `window`."""
    make_traffic(timezone.now(), outbox)
    django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    page.goto(f"/admin/login/?next=/admin/verification/dashboard/%3Fwindow%3D{window}")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


@pytest.mark.parametrize("width", [390, 1280])
def test_dashboard_passes_axe_and_fits(new_page, sms_outbox, django_user_model, width):
    page = new_page(viewport={"width": width, "height": 800})
    refused = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    open_dashboard(page, sms_outbox, django_user_model)
    violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    serious = [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert refused == []
    assert_fits(page)


def test_each_chart_is_a_named_picture_with_a_summary(new_page, sms_outbox, django_user_model):
    page = new_page(viewport={"width": 390, "height": 800})
    open_dashboard(page, sms_outbox, django_user_model)
    charts = page.locator("figure")
    assert charts.count() == 9
    for i in range(charts.count()):
        chart = charts.nth(i)
        expect(chart.get_by_role("img")).to_have_attribute("aria-label", chart.locator("h3").inner_text())
        assert chart.locator("figcaption").inner_text().strip()
    # Labels stay legible on a phone: the charts are drawn about as wide as the screen shows them.
    smallest = page.evaluate(
        "Math.min(...[...document.querySelectorAll('figure svg text')].map((t) => t.getBoundingClientRect().height))"
    )
    assert smallest >= 10
    page.get_by_role("link", name="Last 7 days").click()
    expect(page.get_by_role("link", name="Last 7 days")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Numbers locked now").click()
    expect(page.get_by_text("+14155552671")).to_be_visible()

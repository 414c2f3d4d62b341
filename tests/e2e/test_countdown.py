"""The countdowns a person watches in the browser, with JavaScript on and off.

The page clock is Playwright's fake clock: installed before the first navigation and
paused, so time only moves when a test calls `page.clock.run_for()`, which replays
every setInterval tick the way real time would. Nothing here sleeps.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import ConsoleMessage, Error, Locator, Page, Route, expect

from tests.helpers import T0, code_in, wrong_code
from verification.templatetags.countdown import clock

TYPED_PHONE = "+33 6 12 34 56 78"
#: What the server renders in the first second after sending a code (2:00, or 1:59 on a slow machine).
FRESH_CODE = re.compile(r"^(2:00|1:59)$")
FRESH_LOCK = re.compile(r"^(10:00|9:59)$")

#: A strict policy the pages must work under: scripts only from our own origin, nothing inline.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def freeze_page_clock(page: Page) -> None:
    """Install the fake clock and stop it, so only run_for() moves the countdowns."""
    page.clock.install(time=T0)
    # The installed clock runs in real time until paused, and pause_at() refuses a moment in
    # the past: stop it a minute ahead, which no machine is slow enough to overtake.
    page.clock.pause_at(T0 + timedelta(minutes=1))


def ask_for_code(page: Page) -> None:
    """Type the number on the phone page, send it and land on the code page."""
    page.goto("/")
    page.get_by_label("Mobile number").fill(TYPED_PHONE)
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile(r"/verify/$"))


def submit_code(page: Page, code: str) -> None:
    """Type a code on the code page and press Verify."""
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Verify", exact=True).click()


def seconds_left(countdown: Locator) -> int:
    """Return the seconds the server rendered into a [data-countdown] element."""
    return int(countdown.get_attribute("data-seconds-left"))


def test_code_countdown_ticks_to_zero_then_says_expired_and_enables_resend(page, sms_outbox):
    freeze_page_clock(page)
    ask_for_code(page)
    assert len(sms_outbox) == 1

    expiry = page.locator("p[data-countdown]")
    running = expiry.locator("[data-countdown-running]")
    expired = expiry.locator("[data-countdown-done]", has_text="Your code has expired. Ask for a new one below.")
    resend = page.locator("#resend")
    expect(expiry.locator("[data-countdown-clock]")).to_have_text(FRESH_CODE)
    expect(running).to_contain_text("Code expires in")
    expect(expired).to_be_hidden()
    expect(resend).to_be_disabled()
    # Follow what the server rendered, so a request that straddled a second stays exact.
    start = seconds_left(expiry)

    page.clock.run_for(1000)
    expect(expiry.locator("[data-countdown-clock]")).to_have_text(clock(start - 1))  # 1:59

    page.clock.run_for((start - 2) * 1000)
    expect(expiry.locator("[data-countdown-clock]")).to_have_text("0:01")
    expect(running).to_be_visible()
    expect(expired).to_be_hidden()
    expect(resend).to_be_disabled()

    page.clock.run_for(1000)
    expect(running).to_be_hidden()
    expect(expired).to_be_visible()
    expect(resend).to_be_enabled()
    expect(page.get_by_text("Available now")).to_be_visible()


def test_without_javascript_the_page_reads_right_and_the_flow_works(new_page, sms_outbox):
    page = new_page(java_script_enabled=False)
    ask_for_code(page)

    expect(page.locator("p[data-countdown] [data-countdown-running]")).to_have_text(
        re.compile(r"^Code expires in (2:00|1:59)$")
    )
    expect(page.get_by_text("Your code has expired")).to_be_hidden()
    expect(page.locator("#resend")).to_be_disabled()
    # get_by_text() never looks inside <noscript>, so name the hint by its element.
    expect(page.locator("noscript .hint", has_text="Reload the page when the time is up.")).to_be_visible()

    submit_code(page, code_in(sms_outbox[-1]))
    expect(page).to_have_url(re.compile(r"/verified/$"))
    expect(page.get_by_role("heading", name="Phone verified")).to_be_visible()
    expect(page.get_by_text(f"{TYPED_PHONE} is verified.")).to_be_visible()


def test_locked_page_counts_down_then_offers_a_new_code(page, sms_outbox):
    freeze_page_clock(page)
    ask_for_code(page)
    wrong = wrong_code(code_in(sms_outbox[-1]))
    for attempts_left in (2, 1):
        submit_code(page, wrong)
        expect(page.get_by_text(f"OTP does not match. {attempts_left} attempt")).to_be_visible()
    submit_code(page, wrong)

    expect(page).to_have_url(re.compile(r"/locked/$"))
    expect(page.get_by_role("heading", name="Too many wrong codes")).to_be_visible()
    countdown = page.locator("[data-countdown]")
    expect(countdown.locator("[data-countdown-clock]")).to_have_text(FRESH_LOCK)
    expect(countdown.locator("[data-countdown-running]")).to_contain_text("Try again in")
    send_again = page.get_by_role("button", name="Send a new code")
    expect(send_again).to_be_hidden()
    start = seconds_left(countdown)

    page.clock.run_for((start - 1) * 1000)
    expect(countdown.locator("[data-countdown-clock]")).to_have_text("0:01")
    expect(send_again).to_be_hidden()

    page.clock.run_for(1000)
    expect(page.locator("[data-countdown-done]", has_text="The lock has ended.")).to_be_visible()
    expect(countdown.locator("[data-countdown-running]")).to_be_hidden()
    expect(send_again).to_be_visible()
    expect(send_again).to_be_enabled()


def serve_with_strict_csp(route: Route) -> None:
    """Fetch a page from the live server and hand it to the browser with a strict Content-Security-Policy."""
    request = route.request
    if request.resource_type != "document":
        route.continue_()
        return
    response = route.fetch(max_redirects=0)
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})


def inline_code_on(page: Page) -> list[str]:
    """Return what on the page would need 'unsafe-inline': inline scripts, on* handlers, javascript: URLs."""
    return page.evaluate(
        """() => {
          const found = [];
          document.querySelectorAll("script:not([src])").forEach((s) => found.push("inline <script>"));
          document.querySelectorAll("*").forEach((el) => {
            const tag = el.tagName.toLowerCase();
            for (const attr of el.attributes) {
              if (/^on/i.test(attr.name)) found.push(`${tag}[${attr.name}]`);
              if (/^\\s*javascript:/i.test(attr.value)) found.push(`${tag}[${attr.name}=javascript:]`);
            }
          });
          return found;
        }"""
    )


def test_flow_has_no_console_errors_and_no_inline_scripts(page, sms_outbox):
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text} at {message.location}")

    def on_page_error(error: Error) -> None:
        problems.append(f"uncaught: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.route("**/*", serve_with_strict_csp)
    freeze_page_clock(page)

    ask_for_code(page)
    for url in ("/", "/verify/"):
        response = page.goto(url)
        assert response.headers["content-security-policy"] == STRICT_CSP
        assert page.locator("script:not([src])").count() == 0
        assert inline_code_on(page) == []
    expect(page.locator("[data-countdown-clock]").first).to_have_text(FRESH_CODE)

    page.clock.run_for(121_000)
    expect(page.locator("[data-countdown-done]", has_text="Your code has expired")).to_be_visible()
    expect(page.locator("#resend")).to_be_enabled()

    submit_code(page, code_in(sms_outbox[-1]))
    expect(page).to_have_url(re.compile(r"/verified/$"))
    assert page.locator("script:not([src])").count() == 0
    assert inline_code_on(page) == []
    assert problems == []


def assert_no_horizontal_scroll(page: Page) -> None:
    """Fail if the page is wider than the viewport."""
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], f"{page.url} scrolls sideways at 320px: {widths}"


def test_pages_fit_a_320px_wide_screen(new_page, sms_outbox):
    page = new_page(viewport={"width": 320, "height": 640})

    page.goto("/")
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Send code").click()  # nothing typed: an error appears
    expect(page.get_by_text("Enter your mobile number.")).to_be_visible()
    assert_no_horizontal_scroll(page)

    ask_for_code(page)
    assert_no_horizontal_scroll(page)
    submit_code(page, wrong_code(code_in(sms_outbox[-1])))
    expect(page.get_by_text("OTP does not match.")).to_be_visible()
    assert_no_horizontal_scroll(page)

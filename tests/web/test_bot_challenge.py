"""The bot challenge on the pages: asked only when a send looks risky (or always), checked with the provider
before anything is claimed, failing closed; the CSP names the provider only while it is on."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.helpers import PHONE, code_in
from tests.web.test_csp import assert_strict, directives
from verification.models import BotChallengeTally, PhoneVerification, PumpingTally, RateEvent, VerificationEvent

pytestmark = pytest.mark.django_db

FIELD = "cf-turnstile-response"
OTHER = "+33612345679"


def page(response) -> str:
    return response.content.decode()


def shows_widget(response) -> bool:
    return 'class="cf-turnstile"' in page(response)


def challenges(outcome: str) -> float:
    return REGISTRY.get_sample_value("otp_bot_challenges_total", {"outcome": outcome}) or 0.0


def claimed() -> dict[str, int]:
    """Return what sends have claimed or stored so far."""
    return {
        "numbers": PhoneVerification.objects.count(),
        "rate events": RateEvent.objects.count(),
        "tallies": PumpingTally.objects.count(),
        "events": VerificationEvent.objects.count(),
    }


@pytest.fixture
def always(settings, fake_siteverify):
    settings.OTP_BOT_CHALLENGE_WHEN = "always"
    return fake_siteverify


def test_a_person_below_every_signal_never_sees_the_widget(
    client, frozen, sms_outbox, fake_siteverify, django_capture_on_commit_callbacks
):
    before = challenges("not_needed")
    assert not shows_widget(client.get("/"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/", {"phone": PHONE})
    assert response.status_code == 302 and len(sms_outbox) == 1
    assert not shows_widget(client.get("/verify/"))
    frozen.shift(121)
    assert not shows_widget(client.get("/verify/"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/verify/resend/")
    assert len(sms_outbox) == 2
    assert fake_siteverify.requests == []
    assert challenges("not_needed") == before + 2
    assert BotChallengeTally.objects.count() == 0


def test_always_asks_every_time_and_a_solved_widget_sends(
    client, frozen, sms_outbox, always, django_capture_on_commit_callbacks
):
    html = page(client.get("/"))
    assert f'data-sitekey="{always.site_key}"' in html
    assert f'<script src="{always.script_url}" async defer></script>' in html
    before = challenges("passed")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/", {"phone": PHONE, FIELD: always.solve()})
    assert response.status_code == 302 and len(sms_outbox) == 1
    assert challenges("passed") == before + 1
    # The provider was asked with the secret, the token and the client's address.
    (check,) = always.requests
    assert set(check.form) == {"secret", "response", "remoteip"}
    assert check.form["secret"] == always.secret and check.form["remoteip"] == "127.0.0.1"
    # The resend needs one too: the code page shows it in the resend form, once a resend is possible.
    frozen.shift(121)
    assert shows_widget(client.get("/verify/"))
    client.post("/verify/resend/")
    assert len(sms_outbox) == 1
    client.post("/verify/resend/", {FIELD: always.solve()})
    assert len(sms_outbox) == 2


def test_missing_token_shows_the_widget_and_sends_nothing(client, frozen, sms_outbox, always):
    before = claimed()
    response = client.post("/", {"phone": PHONE})
    assert response.status_code == 200 and shows_widget(response)
    assert "Please confirm that you are not a robot" in page(response)
    # The number is kept in the field, so the person only solves the widget and sends again.
    assert f'value="{PHONE}"' in page(response)
    assert sms_outbox == [] and claimed() == before and always.requests == []


def test_rejected_token_sends_nothing_and_consumes_nothing(
    client, frozen, sms_outbox, always, django_capture_on_commit_callbacks
):
    before, failed = claimed(), challenges("failed")
    for token in ["made-up-token", always.solve(hostname="copy.example.net")]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/", {"phone": PHONE, FIELD: token})
        assert response.status_code == 200 and shows_widget(response)
        assert "We could not confirm that you are not a robot" in page(response)
    assert sms_outbox == [] and claimed() == before
    assert challenges("failed") == failed + 2
    assert BotChallengeTally.objects.get(outcome="failed").count == 2
    # A token is good once: the provider says so, and the page asks again.
    token = always.solve()
    assert client.post("/", {"phone": PHONE, FIELD: token}).status_code == 302
    frozen.shift(121)
    client.post("/verify/resend/", {FIELD: token})
    assert len(sms_outbox) == 1


@pytest.mark.parametrize(
    "token",
    ["x" * 9000, "two words", "tab\there", "é" * 10, "\x00", "a" * 8193],
    ids=["huge", "space", "tab", "non-ascii", "nul", "one-too-long"],
)
def test_malformed_token_is_a_form_error_not_sent_to_the_provider(client, frozen, sms_outbox, always, token):
    response = client.post("/", {"phone": PHONE, FIELD: token})
    assert response.status_code == 200 and shows_widget(response)
    assert sms_outbox == [] and always.requests == []


@pytest.mark.parametrize("mode", ["error", "garbage", "gone"])
def test_provider_down_fails_closed_and_is_counted(
    client, frozen, sms_outbox, always, mode, django_capture_on_commit_callbacks
):
    before, unreachable = claimed(), challenges("unreachable")
    if mode == "gone":
        always.go_away()
    else:
        always.mode = mode
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/", {"phone": PHONE, FIELD: always.solve()})
    assert response.status_code == 200 and shows_widget(response)
    assert "Please try again in a moment" in page(response)
    assert sms_outbox == [] and claimed() == before
    assert challenges("unreachable") == unreachable + 1
    assert BotChallengeTally.objects.get(outcome="unreachable").count == 1


def test_hostname_left_out_by_the_provider_is_not_held_against_the_token(client, frozen, sms_outbox, always):
    always.hostname = None
    assert client.post("/", {"phone": PHONE, FIELD: always.solve()}).status_code == 302


def test_configured_hostnames_replace_the_requests_host(client, settings, frozen, sms_outbox, always):
    settings.OTP_BOT_CHALLENGE_HOSTNAMES = ["verify.example.com"]
    assert client.post("/", {"phone": PHONE, FIELD: always.solve()}).status_code == 200
    token = always.solve(hostname="verify.example.com")
    assert client.post("/", {"phone": PHONE, FIELD: token}).status_code == 302


def test_risk_of_the_number_brings_the_widget_on_the_post(client, settings, frozen, sms_outbox, fake_siteverify):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "4/1h"
    client.post("/", {"phone": PHONE})
    frozen.shift(121)
    assert not shows_widget(client.get("/"))
    client.post("/", {"phone": PHONE})
    assert len(sms_outbox) == 2
    frozen.shift(121)
    # Half of the number's limit is used: the phone page only learns it once the number is typed.
    assert not shows_widget(client.get("/"))
    response = client.post("/", {"phone": PHONE})
    assert response.status_code == 200 and shows_widget(response) and len(sms_outbox) == 2
    # The code page's resend form asks for it too.
    assert shows_widget(client.get("/verify/"))
    # Another number from the same browser is not asked.
    assert client.post("/", {"phone": OTHER}).status_code == 302 and len(sms_outbox) == 3


def test_risk_of_the_client_shows_the_widget_before_the_number_is_typed(client, settings, frozen, fake_siteverify):
    settings.OTP_SEND_LIMITS_PER_IP = "2/1h"
    assert not shows_widget(client.get("/"))
    client.post("/", {"phone": PHONE})
    assert shows_widget(client.get("/"))
    # An invalid number is answered with the form's error and the widget still there.
    response = client.post("/", {"phone": "+33 12"})
    assert "That is not a valid phone number." in page(response) and shows_widget(response)


def test_off_by_default_and_nothing_changes(client, frozen, sms_outbox):
    response = client.get("/")
    assert "cf-turnstile" not in page(response) and "h-captcha" not in page(response)
    assert_strict(response)
    assert client.post("/", {"phone": PHONE}).status_code == 302


def test_hcaptcha_widget_and_its_sitekey_sent_to_siteverify(client, settings, frozen, sms_outbox, always):
    settings.OTP_BOT_CHALLENGE = "hcaptcha"
    assert 'class="h-captcha"' in page(client.get("/"))
    assert client.post("/", {"phone": PHONE, "h-captcha-response": always.solve()}).status_code == 302
    assert always.requests[0].form["sitekey"] == always.site_key


def test_csp_names_the_provider_only_while_the_challenge_is_on(client, settings, fake_siteverify):
    origin = fake_siteverify.base_url
    policy = directives(client.get("/"))
    assert policy["script-src"] == f"'self' https://challenges.cloudflare.com {origin}"
    assert policy["frame-src"] == f"https://challenges.cloudflare.com {origin}"
    assert policy["default-src"] == "'none'" and policy["style-src"] == "'self'"
    assert "unsafe-inline" not in client.get("/")["Content-Security-Policy"]
    settings.OTP_BOT_CHALLENGE_SCRIPT_URL = ""
    policy = directives(client.get("/"))
    assert policy["script-src"] == "'self' https://challenges.cloudflare.com"
    settings.OTP_BOT_CHALLENGE = ""
    assert_strict(client.get("/"))
    assert "frame-src" not in directives(client.get("/"))
    assert "challenges.cloudflare.com" not in client.get("/")["Content-Security-Policy"]


def test_verified_person_goes_on_after_passing(client, frozen, sms_outbox, always):
    client.post("/", {"phone": PHONE, FIELD: always.solve()})
    response = client.post("/verify/", {"code": code_in(sms_outbox[-1])})
    assert response.status_code == 302 and response["Location"] == "/verified/"

"""The bot challenge on django-allauth's and django-two-factor-auth's sends, against a fake Turnstile.

A relayed send is screened as the app's own pages screen theirs, before anything is claimed; the libraries' forms
carry the widget through the `otp_bot_challenge` template tag and post its token (allauth's headless API in its
JSON body).
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.test import Client

from tests.integrations.helpers import OTHER_RANGE, PASSWORD, PHONE, SAME_RANGE, wizard
from tests.integrations.test_allauth import account_with_number
from verification.models import PumpingTally, RateEvent, VerificationEvent

pytestmark = pytest.mark.django_db

LOGIN, CONFIRM_LOGIN = "/accounts/login/", "/accounts/login/code/confirm/"
HEADLESS = "/_allauth/browser/v1/"
SETUP = "/account/two_factor/setup/"
FIELD = "cf-turnstile-response"
ASK = "Please confirm that you are not a robot, then ask for the code again."
WARNING = "We've encountered an issue with the selected authentication method"


@pytest.fixture
def always(fake_siteverify, settings):
    settings.OTP_BOT_CHALLENGE_WHEN = "always"
    return fake_siteverify


def widget_in(response) -> str:
    """Render the tag as a library's form would, for the request that gave `response`."""
    return (
        Template("{% load otp_bot_challenge %}{% otp_bot_challenge %}")
        .render(Context({"request": response.wsgi_request}))
        .strip()
    )


def nothing_claimed() -> bool:
    return not RateEvent.objects.exists() and not PumpingTally.objects.exists()


def test_allauth_login_by_code_waits_for_a_solved_challenge(client, always, sms_outbox, frozen):
    account_with_number(PHONE)
    refused = client.post(LOGIN, {"login": PHONE})
    assert refused.status_code == 302 and refused["Location"] == LOGIN
    assert ASK in [str(message) for message in get_messages(refused.wsgi_request)]
    assert not sms_outbox and nothing_claimed()
    # The login page (the tag in allauth's form) shows the widget; a token solved there lets the code go.
    assert 'data-bot-challenge="turnstile"' in widget_in(client.get(LOGIN))
    sent = client.post(LOGIN, {"login": PHONE, FIELD: always.solve()})
    assert sent.status_code == 302 and sent["Location"].startswith(CONFIRM_LOGIN)
    assert [sms.to for sms in sms_outbox] == [PHONE]
    assert [request.form["response"] for request in always.requests][-1].startswith("0.")


def test_a_number_with_and_without_an_account_meet_the_same_challenge(always, sms_outbox, frozen):
    account_with_number(PHONE)
    answers = {}
    for phone in (PHONE, SAME_RANGE):
        browser = Client()
        refused = browser.post(LOGIN, {"login": phone})
        sent = browser.post(LOGIN, {"login": phone, FIELD: always.solve()})
        answers[phone] = [(r.status_code, r["Location"].split("?")[0]) for r in (refused, sent)]
    assert answers[PHONE] == answers[SAME_RANGE] == [(302, LOGIN), (302, CONFIRM_LOGIN)]
    assert sorted(sms.to for sms in sms_outbox) == sorted([PHONE, SAME_RANGE])


def test_a_used_or_forged_token_is_refused(client, always, sms_outbox, frozen):
    account_with_number(PHONE)
    token = always.solve()
    assert client.post(LOGIN, {"login": PHONE, FIELD: token}).status_code == 302 and len(sms_outbox) == 1
    frozen.shift(121)
    # The provider accepts each token once; one it never made is refused too.
    for replayed in (token, "0.forged"):
        assert Client().post(LOGIN, {"login": PHONE, FIELD: replayed})["Location"] == LOGIN
    assert len(sms_outbox) == 1


def test_headless_clients_send_the_token_in_the_json_body(always, sms_outbox, frozen):
    account_with_number(PHONE)
    api = Client()

    def request_code(**extra):
        body = json.dumps({"phone": PHONE, **extra})
        return api.post(HEADLESS + "auth/code/request", body, content_type="application/json")

    refused = request_code()
    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"message": ASK, "code": "bot_challenge"}]
    assert not sms_outbox and nothing_claimed()
    assert request_code(**{FIELD: always.solve()}).status_code == 401  # a login by code is pending
    assert [sms.to for sms in sms_outbox] == [PHONE]


def test_two_factor_setup_says_why_and_sends_once_the_challenge_is_solved(always, sms_outbox, frozen):
    user = get_user_model().objects.create_user("ada", password=PASSWORD)
    browser = Client()
    browser.force_login(user)
    wizard(browser, SETUP, "setup_view", "welcome")
    wizard(browser, SETUP, "setup_view", "method", method="sms")
    refused = wizard(browser, SETUP, "setup_view", "sms", number=PHONE)
    page = refused.content.decode()
    # two-factor-auth's warning, and the app's reason beside it; the widget for the number's step.
    assert WARNING in page and ASK in page
    assert 'data-bot-challenge="turnstile"' in widget_in(refused)
    assert not sms_outbox and nothing_claimed()
    data = {"setup_view-current_step": "sms", "sms-number": PHONE, FIELD: always.solve()}
    sent = browser.post(SETUP, data)
    assert WARNING not in sent.content.decode() and [sms.to for sms in sms_outbox] == [PHONE]


def test_the_widget_shows_after_a_refusal_for_a_risk_only_the_number_shows(
    fake_siteverify, settings, sms_outbox, frozen
):
    # Risk, not "always": a number that used half its hourly limit is screened; the page cannot know it first.
    settings.OTP_SEND_LIMITS_PER_NUMBER = "2/1h"
    account_with_number(PHONE)
    assert Client().post(LOGIN, {"login": PHONE}).status_code == 302 and len(sms_outbox) == 1
    frozen.shift(121)
    browser = Client()
    assert widget_in(browser.get(LOGIN)) == ""
    assert browser.post(LOGIN, {"login": PHONE})["Location"] == LOGIN and len(sms_outbox) == 1
    assert 'data-bot-challenge="turnstile"' in widget_in(browser.get(LOGIN))
    # Someone else's number is not risky: sent without a challenge, from the same browser.
    assert browser.post(LOGIN, {"login": OTHER_RANGE})["Location"].startswith(CONFIRM_LOGIN)
    refusals = VerificationEvent.objects.filter(kind="rate_limited")
    assert not refusals.exists()


def test_two_factor_login_sends_the_token_once_the_challenge_is_solved(always, sms_outbox, frozen):
    from two_factor.plugins.phonenumber.models import PhoneDevice

    user = get_user_model().objects.create_user("ada", password=PASSWORD)
    PhoneDevice.objects.create(user=user, name="default", number=PHONE, method="sms", confirmed=True)
    auth = {"login_view-current_step": "auth", "auth-username": "ada", "auth-password": PASSWORD}
    refused = Client().post("/account/login/", auth)
    assert refused.status_code == 200 and ASK in refused.content.decode() and not sms_outbox
    # The widget goes in two-factor-auth's login form, whose POST carries the token with the password.
    assert 'data-bot-challenge="turnstile"' in widget_in(refused)
    sent = Client().post("/account/login/", {**auth, FIELD: always.solve()})
    assert sent.status_code == 200 and ASK not in sent.content.decode()
    assert [sms.to for sms in sms_outbox] == [PHONE]

"""django-allauth's headless API (browser and app clients) with verification.contrib.allauth.AccountAdapter.

The same adapter as its pages: allauth makes and checks its codes, the app delivers them within its limits. A
refusal is allauth's own JSON 429; a text no provider took is allauth's JSON error shape with status 503, never a
redirect an API client cannot follow.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.test import Client

from tests.helpers import T0
from tests.integrations.helpers import OTHER_RANGE, PHONE, SAME_RANGE
from tests.integrations.test_allauth import account_with_number, allauth_code
from verification.auth import numbers
from verification.models import PhoneVerification, RateEvent, VerificationEvent

pytestmark = pytest.mark.django_db

BROWSER, APP = "/_allauth/browser/v1/", "/_allauth/app/v1/"


def call(client: Client, url: str, data: dict | None = None, *, base: str = BROWSER, token: str = ""):
    """POST JSON to one of allauth's headless endpoints; return (status, decoded body)."""
    headers = {"X-Session-Token": token} if token else {}
    response = client.post(base + url, json.dumps(data or {}), content_type="application/json", headers=headers)
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:200])
    return response.status_code, response.json()


def pending(body: dict) -> list[str]:
    return [flow["id"] for flow in body["data"]["flows"] if flow.get("is_pending")]


def test_login_by_code_over_the_browser_api(client, sms_outbox, frozen):
    user = account_with_number(PHONE)
    status, body = call(client, "auth/code/request", {"phone": PHONE})
    assert status == 401 and pending(body) == ["login_by_code"]
    [sms] = sms_outbox
    assert sms.to == PHONE
    status, body = call(client, "auth/code/confirm", {"code": allauth_code(sms)})
    assert status == 200 and body["meta"]["is_authenticated"] and body["data"]["user"]["id"] == user.pk
    sent = VerificationEvent.objects.get(kind="sent")
    assert (sent.channel, sent.flow) == ("allauth", "sign_in")


def test_login_by_code_over_the_app_api_with_a_session_token(sms_outbox, frozen):
    user = account_with_number(PHONE)
    app = Client()
    status, body = call(app, "auth/code/request", {"phone": PHONE}, base=APP)
    assert status == 401 and pending(body) == ["login_by_code"]
    token = body["meta"]["session_token"]
    status, body = call(app, "auth/code/confirm", {"code": allauth_code(sms_outbox[0])}, base=APP, token=token)
    assert status == 200 and body["data"]["user"]["id"] == user.pk


def test_phone_sign_up_over_the_api_confirms_the_sign_in_number(client, sms_outbox, frozen):
    status, body = call(client, "auth/signup", {"phone": PHONE})
    assert status == 401 and pending(body) == ["verify_phone"]
    status, body = call(client, "auth/phone/verify", {"code": allauth_code(sms_outbox[0])})
    assert status == 200 and body["meta"]["is_authenticated"]
    assert numbers.sign_in_number(numbers.owner_of(PHONE)) == PHONE


def test_the_sixth_send_to_a_number_in_an_hour_is_allauths_json_429_and_no_sms(sms_outbox, frozen):
    account_with_number(PHONE)
    for sent in range(1, 6):
        status, _ = call(Client(REMOTE_ADDR=f"192.0.2.{sent}"), "auth/code/request", {"phone": PHONE})
        assert status == 401 and len(sms_outbox) == sent
        frozen.shift(121)
    status, body = call(Client(REMOTE_ADDR="192.0.2.6"), "auth/code/request", {"phone": PHONE})
    assert (status, body) == (429, {"status": 429})
    assert len(sms_outbox) == 5
    assert VerificationEvent.objects.get(kind="rate_limited").limit == "number"


def test_a_number_without_an_account_gets_the_same_answers_429_included(sms_outbox, frozen):
    account_with_number(PHONE)
    answers = {PHONE: [], SAME_RANGE: []}
    for attempt in range(6):
        for phone in answers:
            answers[phone].append(
                call(Client(REMOTE_ADDR=f"192.0.2.{attempt + 1}"), "auth/code/request", {"phone": phone})
            )
        frozen.shift(121)
    assert answers[PHONE] == answers[SAME_RANGE]
    assert [status for status, _ in answers[PHONE]] == [401] * 5 + [429]
    assert Counter(sms.to for sms in sms_outbox) == {PHONE: 5, SAME_RANGE: 5}


def test_a_resend_within_the_cooldown_is_allauths_json_429(client, sms_outbox, frozen):
    account_with_number(PHONE)
    call(client, "auth/code/request", {"phone": PHONE})
    assert call(client, "auth/code/resend") == (429, {"status": 429})
    frozen.shift(121)
    assert call(client, "auth/code/resend")[0] == 200
    assert len(sms_outbox) == 2
    status, _ = call(client, "auth/code/confirm", {"code": allauth_code(sms_outbox[1])})
    assert status == 200


def test_a_provider_failure_is_a_json_503_that_gives_everything_back(client, sms_down, sms_outbox, settings, frozen):
    account_with_number(PHONE)
    backend = settings.SMS_BACKEND
    sms_down()
    status, body = call(client, "auth/code/request", {"phone": PHONE})
    assert status == 503
    assert body["errors"] == [
        {"message": "We couldn't send the code right now, please try again.", "code": "unavailable"}
    ]
    assert not RateEvent.objects.exists() and not PhoneVerification.objects.get(phone=PHONE).in_cooldown(T0)
    # Nothing was consumed: once a provider takes texts again, the same person asks at once and gets in.
    settings.SMS_BACKEND = backend
    status, _ = call(client, "auth/code/request", {"phone": PHONE})
    assert status == 401 and [sms.to for sms in sms_outbox] == [PHONE]
    assert call(client, "auth/code/confirm", {"code": allauth_code(sms_outbox[0])})[0] == 200


def test_a_number_the_site_does_not_text_is_a_json_400_naming_the_field(client, settings, sms_outbox, frozen):
    settings.OTP_ALLOWED_COUNTRIES = "US"
    status, body = call(client, "auth/signup", {"phone": OTHER_RANGE})
    assert status == 400 and [error["param"] for error in body["errors"]] == ["phone"]
    assert not sms_outbox

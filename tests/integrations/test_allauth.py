"""django-allauth 65.x with verification.contrib.allauth.AccountAdapter: its own pages, real, end to end.

allauth makes, times and checks its codes; the app keeps the numbers (sign-in numbers) and delivers every text,
counted by its limits and brake. Codes are read from the locmem backend's outbox.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.integrations.helpers import OTHER_RANGE, PHONE, SAME_RANGE, pause_range
from verification.auth import numbers
from verification.models import PendingPhone, PhoneVerification, SignInNumber, VerificationEvent

pytestmark = pytest.mark.django_db

SIGNUP, LOGIN, CONFIRM_LOGIN = "/accounts/signup/", "/accounts/login/", "/accounts/login/code/confirm/"
VERIFY_PHONE, CHANGE_PHONE = "/accounts/phone/verify/", "/accounts/phone/change/"
HEADLESS_SIGNUP = "/_allauth/browser/v1/auth/signup"


def allauth_code(sms) -> str:
    """Return the code allauth made (e.g. 4KQ7-ZD2M) out of the text the app delivered."""
    return re.search(r"your code is (\S+)\. Do not share it", sms.body).group(1)


def signed_in_as(client: Client):
    response = client.get("/profile/")
    return response.content.decode() if response.status_code == 200 else None


def account_with_number(phone: str, username: str = "ada"):
    user = get_user_model().objects.create_user(username, password=None)
    assert numbers.set_sign_in_number(user, phone, timezone.now())
    return user


def request_login_code(client: Client, phone: str):
    return client.post(LOGIN, {"login": phone})


def test_phone_sign_up_sends_allauths_code_through_the_app_and_makes_the_sign_in_number(client, sms_outbox, frozen):
    response = client.post(SIGNUP, {"phone": PHONE})
    assert response.status_code == 302 and response["Location"] == VERIFY_PHONE
    [sms] = sms_outbox
    assert sms.to == PHONE
    user = get_user_model().objects.get()
    # Given, not confirmed: it signs nobody in yet.
    assert PendingPhone.objects.get(user=user).phone == PHONE and not SignInNumber.objects.exists()

    done = client.post(VERIFY_PHONE, {"code": allauth_code(sms)})
    assert done.status_code == 302
    assert signed_in_as(client) == f"signed in as {user.pk}"
    assert numbers.sign_in_number(user) == PHONE and not PendingPhone.objects.exists()
    events = VerificationEvent.objects.order_by("created_at", "id")
    assert [(e.kind, e.channel, e.flow) for e in events] == [
        ("sent", "allauth", "verify"),
        ("verified", "allauth", "verify"),
    ]
    # allauth's code is allauth's: the app stored no hash of it.
    assert PhoneVerification.objects.get(phone=PHONE).code_hash == ""


def test_login_by_code_reaches_the_account_the_number_signs_in(client, sms_outbox, frozen):
    user = account_with_number(PHONE)
    response = request_login_code(client, PHONE)
    assert response.status_code == 302 and response["Location"].startswith(CONFIRM_LOGIN)
    [sms] = sms_outbox
    assert sms.to == PHONE
    assert client.post(CONFIRM_LOGIN, {"code": allauth_code(sms)}).status_code == 302
    assert signed_in_as(client) == f"signed in as {user.pk}"
    sent = VerificationEvent.objects.get(kind="sent")
    assert (sent.channel, sent.flow) == ("allauth", "sign_in")


def test_phone_change_verifies_the_new_number_before_it_signs_in(client, sms_outbox, frozen):
    user = account_with_number(PHONE)
    client.force_login(user)
    response = client.post(CHANGE_PHONE, {"phone": OTHER_RANGE})
    assert response.status_code == 302 and response["Location"] == VERIFY_PHONE
    [sms] = sms_outbox
    assert sms.to == OTHER_RANGE
    assert numbers.sign_in_number(user) == PHONE
    assert client.post(VERIFY_PHONE, {"code": allauth_code(sms)}).status_code == 302
    assert numbers.sign_in_number(user) == OTHER_RANGE
    assert numbers.owner_of(PHONE) is None


def test_a_number_given_but_never_confirmed_signs_nobody_in(client, sms_outbox, frozen):
    client.post(SIGNUP, {"phone": PHONE})
    squatter = get_user_model().objects.get()
    stranger = Client()
    frozen.shift(121)
    assert request_login_code(stranger, PHONE).status_code == 302
    # The person holding the number is told no account uses it, and gets no code into the squatter's account.
    assert "no account uses it" in sms_outbox[-1].body
    assert signed_in_as(stranger) is None and numbers.owner_of(PHONE) is None
    assert PendingPhone.objects.get().user == squatter


def test_the_sixth_send_to_a_number_in_an_hour_is_allauths_429_and_no_sms(client, sms_outbox, frozen):
    account_with_number(PHONE)
    for sent in range(1, 6):
        browser = Client(REMOTE_ADDR=f"192.0.2.{sent}")
        assert request_login_code(browser, PHONE).status_code == 302
        assert len(sms_outbox) == sent
        frozen.shift(121)
    sixth = request_login_code(Client(REMOTE_ADDR="192.0.2.6"), PHONE)
    # allauth's answer: its handler renders the project's 429.html (the standalone site's, here).
    assert sixth.status_code == 429
    assert len(sms_outbox) == 5
    refusal = VerificationEvent.objects.get(kind="rate_limited")
    assert (refusal.limit, refusal.channel) == ("number", "allauth")


def test_a_number_without_an_account_gets_the_same_answers_429_included(client, sms_outbox, frozen):
    account_with_number(PHONE)
    answers = {PHONE: [], SAME_RANGE: []}
    for attempt in range(6):
        for phone in answers:
            response = request_login_code(Client(REMOTE_ADDR=f"192.0.2.{attempt + 1}"), phone)
            answers[phone].append((response.status_code, response.get("Location", "").split("?")[0]))
        frozen.shift(121)
    assert answers[PHONE] == answers[SAME_RANGE] == [(302, CONFIRM_LOGIN)] * 5 + [(429, "")]
    assert Counter(sms.to for sms in sms_outbox) == {PHONE: 5, SAME_RANGE: 5}


def test_resend_within_the_cooldown_is_allauths_too_many_requests_message(client, sms_outbox, frozen):
    account_with_number(PHONE)
    request_login_code(client, PHONE)
    response = client.post(CONFIRM_LOGIN, {"action": "resend"}, follow=True)
    assert response.status_code == 200
    assert "you are sending too many requests" in response.content.decode()
    assert len(sms_outbox) == 1
    # Once the app's resend cooldown is over, allauth's resend goes out, and its new code logs in.
    frozen.shift(121)
    client.post(CONFIRM_LOGIN, {"action": "resend"})
    assert len(sms_outbox) == 2 and allauth_code(sms_outbox[1]) != allauth_code(sms_outbox[0])
    assert client.post(CONFIRM_LOGIN, {"code": allauth_code(sms_outbox[1])}).status_code == 302
    assert signed_in_as(client)


def test_a_pumping_pause_stops_allauths_texts_to_the_range(client, sms_outbox, frozen):
    account_with_number(PHONE)
    pause_range(PHONE)
    assert request_login_code(client, PHONE).status_code == 429
    assert Client().post(SIGNUP, {"phone": SAME_RANGE}).status_code == 429
    assert not sms_outbox
    assert set(VerificationEvent.objects.values_list("limit", flat=True)) == {"pumping"}
    assert request_login_code(Client(), OTHER_RANGE).status_code == 302
    assert [sms.to for sms in sms_outbox] == [OTHER_RANGE]


def test_a_country_the_site_does_not_send_to_is_a_form_error(client, settings, sms_outbox, frozen):
    settings.OTP_ALLOWED_COUNTRIES = ["FR"]
    response = client.post(SIGNUP, {"phone": "+14155552671"})
    assert response.status_code == 200
    assert "can&#x27;t send codes to numbers in this country" in response.content.decode()
    assert not sms_outbox and not get_user_model().objects.exists()


def test_a_provider_failure_is_a_message_and_gives_everything_back(client, sms_down, sms_outbox, frozen):
    account_with_number(PHONE)
    sms_down()
    response = request_login_code(client, PHONE)
    assert response.status_code == 302 and response["Location"] == LOGIN
    page = client.get(LOGIN).content.decode()
    assert "could not" in page.lower() or "try again" in page.lower()
    record = PhoneVerification.objects.get(phone=PHONE)
    assert not record.in_cooldown(timezone.now())
    assert VerificationEvent.objects.get().kind == "send_failed"


def test_a_hosts_subclass_keeps_the_limits_and_is_checked(client, settings, sms_outbox, frozen):
    from verification.contrib.checks import check_allauth

    settings.ACCOUNT_ADAPTER = "tests.integrations.adapters.HostAdapter"
    account_with_number(PHONE)
    assert request_login_code(client, PHONE).status_code == 302
    assert sms_outbox[0].body.startswith("Acme login: ")
    assert request_login_code(Client(), PHONE).status_code == 429
    assert check_allauth() == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "allauth" not in m]
    assert [m.id for m in check_allauth()] == ["verification.E252"]


def test_login_by_code_with_twilio_verify_first_reaches_the_person_through_the_next_provider(
    client, settings, fake_verify, sms_outbox, frozen
):
    # Twilio Verify would text a code of its own, which allauth cannot check: the chain's next backend carries it.
    settings.SMS_BACKEND = "twilio_verify"
    settings.SMS_FALLBACK_BACKENDS = ["locmem"]
    user = account_with_number(PHONE)
    assert request_login_code(client, PHONE).status_code == 302
    assert fake_verify.requests == []
    [sms] = sms_outbox
    assert client.post(CONFIRM_LOGIN, {"code": allauth_code(sms)}).status_code == 302
    assert signed_in_as(client) == f"signed in as {user.pk}"
    assert VerificationEvent.objects.get(kind="sent").provider == "locmem"


def test_allauths_own_verify_phone_limit_is_named_by_a_check(settings):
    from verification.contrib.checks import check_allauth

    del settings.ACCOUNT_RATE_LIMITS  # allauth's defaults: verify_phone 1/30s per number
    assert "verification.W259" in [message.id for message in check_allauth()]
    settings.ACCOUNT_RATE_LIMITS = {"verify_phone": None}
    assert "verification.W259" not in [message.id for message in check_allauth()]


@pytest.mark.parametrize("headless", [False, True], ids=["pages", "headless"])
def test_with_allauths_limits_on_as_the_check_says_a_second_sign_up_is_no_500(settings, sms_outbox, frozen, headless):
    # Found by hand: with allauth's defaults the second sign-up below raised RateLimited out of allauth (a 500).
    settings.ACCOUNT_RATE_LIMITS = {"verify_phone": None}
    answers = []
    for _ in range(2):
        browser = Client()
        if headless:
            body = json.dumps({"phone": PHONE})
            answers.append(browser.post(HEADLESS_SIGNUP, body, content_type="application/json").status_code)
        else:
            answers.append(browser.post(SIGNUP, {"phone": PHONE}).status_code)
    # The second is the app's cooldown: allauth's 429 on its pages; headless sign-up swallows it (see README).
    assert answers == ([401, 401] if headless else [302, 429])
    assert len(sms_outbox) == 1

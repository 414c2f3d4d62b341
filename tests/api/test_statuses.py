"""Every status of the JSON API, through Django's test client and through gunicorn over HTTP.

Each answer is checked against docs/openapi.yaml as it arrives. Both transports send SMS through the real
twilio library to one fake Twilio, so a test reads its codes the same way and can make the provider fail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import requests
from django.test import Client

from tests.fakes.twilio_server import FakeTwilio
from tests.gunicorn_server import LiveApp, serve
from tests.helpers import PHONE, assert_in_openapi, code_in, post_json, wrong_code
from verification.api.http import MAX_BODY_BYTES
from verification.models import PhoneVerification, VerificationEvent
from verification.shortcuts import phone_from_token

pytestmark = pytest.mark.django_db(transaction=True)

SEND, CHECK = "/api/v1/send", "/api/v1/check"
OTHER = "+33612345679"
#: Low enough to reach in a test: a client that carries its challenge along gets two sends an hour.
SESSION_LIMIT = "2/1h"


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict[str, str]
    #: Whatever Set-Cookie headers came back.
    cookies: list[str] = field(default_factory=list)


class Api:
    """The API through one transport; every answer is checked against the OpenAPI description first."""

    def __init__(self, twilio: FakeTwilio) -> None:
        self.twilio = twilio

    def code_for(self, phone: str = PHONE) -> str:
        """Return the code of the latest SMS the fake Twilio took for `phone`."""
        return code_in([form["Body"] for form in self.twilio.messages.values() if form["To"] == phone][-1])

    def send(self, phone: str = PHONE, **body) -> Answer:
        return self.post(SEND, {"phone": phone, **body})

    def check(self, challenge: str, code: str) -> Answer:
        return self.post(CHECK, {"challenge": challenge, "code": code})

    def post(self, path: str, body: object, content_type: str = "application/json") -> Answer:
        raise NotImplementedError

    def get(self, path: str) -> Answer:
        raise NotImplementedError


class ClientApi(Api):
    def __init__(self, twilio: FakeTwilio) -> None:
        super().__init__(twilio)
        self.client = Client()

    def _answer(self, response) -> Answer:
        assert_in_openapi(response)
        cookies = [morsel.OutputString() for morsel in response.cookies.values()]
        return Answer(response.status_code, json.loads(response.content), dict(response.headers), cookies)

    def post(self, path: str, body: object, content_type: str = "application/json") -> Answer:
        return self._answer(post_json(self.client, path, body, content_type=content_type))

    def get(self, path: str) -> Answer:
        return self._answer(self.client.get(path))


class HttpApi(Api):
    def __init__(self, twilio: FakeTwilio, app: LiveApp) -> None:
        super().__init__(twilio)
        self.app = app
        self.http = requests.Session()

    def _answer(self, response: requests.Response) -> Answer:
        assert_in_openapi(response)
        cookies = response.raw.headers.getlist("Set-Cookie")
        return Answer(response.status_code, response.json(), dict(response.headers), cookies)

    def post(self, path: str, body: object, content_type: str = "application/json") -> Answer:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        headers = {"Content-Type": content_type}
        return self._answer(self.http.post(self.app.url + path, data=data, headers=headers, timeout=30))

    def get(self, path: str) -> Answer:
        return self._answer(self.http.get(self.app.url + path, timeout=30))


@pytest.fixture(scope="module")
def provider():
    server = FakeTwilio(account_sid="AC" + "0" * 32, auth_token="f" * 32).start()
    yield server
    server.stop()


def twilio_settings(provider: FakeTwilio) -> dict[str, str]:
    return {
        "SMS_BACKEND": "verification.sms.backends.twilio.SmsBackend",
        "TWILIO_ACCOUNT_SID": provider.account_sid,
        "TWILIO_AUTH_TOKEN": provider.auth_token,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": provider.base_url,
        "TWILIO_TIMEOUT_SECONDS": "2",
        "OTP_SEND_LIMITS_PER_SESSION": SESSION_LIMIT,
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory, provider, django_db_setup):
    with serve(tmp_path_factory.mktemp("live-api"), **twilio_settings(provider)) as app:
        yield app
    assert not [line for line in app.log if "Traceback" in line or "Internal Server Error" in line]


@pytest.fixture(params=["test-client", "gunicorn"])
def api(request, settings, provider) -> Api:
    provider.reset()
    if request.param == "gunicorn":
        return HttpApi(provider, request.getfixturevalue("live"))
    for name, value in twilio_settings(provider).items():
        setattr(settings, name, value)
    return ClientApi(provider)


def test_send_201_check_400_then_200_then_410(api):
    sent = api.send("+33 6 12 34 56 78")
    assert sent.status == 201
    assert sent.body["expires_in"] == 120 and sent.body["resend_in"] == 120
    assert sent.headers["Content-Type"] == "application/json" and sent.cookies == []
    challenge, code = sent.body["challenge"], api.code_for()

    wrong = api.check(challenge, wrong_code(code))
    assert (wrong.status, wrong.body["error"], wrong.body["attempts_left"]) == (400, "mismatch", 2)

    verified = api.check(challenge, code)
    assert verified.status == 200 and verified.cookies == []
    assert verified.body["verified"] is True and verified.body["phone"] == PHONE
    assert phone_from_token(verified.body["token"]) == PHONE

    again = api.check(challenge, code)
    assert (again.status, again.body["error"]) == (410, "expired")


def test_a_second_send_in_the_cooldown_is_429_cooldown(api):
    assert api.send().status == 201
    answer = api.send()
    assert (answer.status, answer.body["error"]) == (429, "cooldown")
    assert 0 < answer.body["retry_in"] <= 120 and answer.headers["Retry-After"] == str(answer.body["retry_in"])
    assert len(api.twilio.messages) == 1


def test_the_third_wrong_code_locks_the_number_423(api):
    challenge = api.send().body["challenge"]
    bad = wrong_code(api.code_for())
    assert [api.check(challenge, bad).body["attempts_left"] for _ in range(2)] == [2, 1]
    locked = api.check(challenge, bad)
    assert (locked.status, locked.body["error"]) == (423, "locked")
    assert 590 < locked.body["retry_in"] <= 600 and locked.headers["Retry-After"] == str(locked.body["retry_in"])
    # Locked for everyone: the right code, and a send from another client, get the same answer.
    assert api.check(challenge, api.code_for()).status == 423
    refused = api.send()
    assert (refused.status, refused.body["error"]) == (423, "locked") and "Retry-After" in refused.headers
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 3


def test_a_challenge_that_is_not_the_current_one_is_404_and_counts_nothing(api):
    first = api.send().body["challenge"]
    assert api.check(first, api.code_for()).status == 200
    # A verified number may get a new code at once; the old challenge is not the new code's.
    second = api.send().body["challenge"]
    stale = api.check(first, api.code_for())
    assert (stale.status, stale.body["error"]) == (404, "unknown_challenge")
    forged = api.check(second[:-2] + ("AA" if not second.endswith("AA") else "BB"), api.code_for())
    assert (forged.status, forged.body["error"]) == (404, "unknown_challenge")
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0
    # The right challenge still works.
    assert api.check(second, api.code_for()).status == 200
    assert api.send(OTHER, challenge="not a challenge").status == 404


def test_a_client_carrying_its_challenge_meets_the_per_session_limit_429(api):
    # Counted from the client's first code on, as a browser's session starts with its first code.
    challenge = api.send("+33612345670").body["challenge"]
    for phone in ("+33612345671", "+33612345672"):
        sent = api.send(phone, challenge=challenge)
        assert sent.status == 201
        challenge = sent.body["challenge"]
    refused = api.send("+33612345673", challenge=challenge)
    assert (refused.status, refused.body["error"], refused.body["limit"]) == (429, "rate_limited", "session")
    assert 3500 < refused.body["retry_in"] <= 3600 and refused.headers["Retry-After"] == str(refused.body["retry_in"])
    # Without a challenge it is another client, as a browser without cookies is another session.
    assert api.send("+33612345673").status == 201
    assert VerificationEvent.objects.filter(kind="rate_limited", channel="api").count() == 1


def test_a_provider_refusal_is_503_and_consumes_nothing(api):
    api.twilio.fail_with(21211, "Invalid 'To' Phone Number")
    failed = api.send()
    assert (failed.status, failed.body["error"], failed.body["problem"]) == (503, "send_failed", "invalid_number")
    api.twilio.rate_limit()
    assert api.send().body["problem"] == "unavailable"
    # No cooldown was used up: the next send goes out at once.
    assert api.send().status == 201


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "required"),
        ({"phone": ""}, "required"),
        ({"phone": "1" * 41}, "max_length"),
        ({"phone": "0612345678"}, "no_country_code"),
        ({"phone": "+33 6 12"}, "invalid_phone"),
        ({"phone": 33612345678}, "invalid_phone"),
        ({"phone": ["+33612345678"]}, "invalid_phone"),
        ({"phone": {"number": "+33612345678"}}, "invalid_phone"),
        ({"phone": "+33\u0000612345678"}, "null_characters_not_allowed"),
        ({"phone": "0612345678", "country": "ZZ"}, "invalid_choice"),
        ({"phone": "+1 900 555 0100"}, "destination_refused"),
    ],
)
def test_an_unusable_number_is_400_invalid_phone_with_the_forms_reason(api, body, reason):
    answer = api.post(SEND, body)
    assert (answer.status, answer.body["error"], answer.body["reason"]) == (400, "invalid_phone", reason)
    assert api.twilio.messages == {} and not PhoneVerification.objects.exists()


def test_a_number_without_plus_is_read_in_the_country_given(api):
    assert api.send("06 12 34 56 78", country="FR").status == 201
    assert [form["To"] for form in api.twilio.messages.values()] == [PHONE]


@pytest.mark.parametrize("code", ["12345", "abcdef", "", None, 123456, ["123456"], "١٢٣٤٥٦"])
def test_a_code_that_is_not_six_digits_is_400_invalid_code_and_counts_nothing(api, code):
    challenge = api.send().body["challenge"]
    answer = api.post(CHECK, {"challenge": challenge, "code": code})
    assert (answer.status, answer.body["error"]) == (400, "invalid_code")
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0


@pytest.mark.parametrize("body", [" ", "{", "[]", '"phone"', "null", "{'phone': '+33612345678'}", "[" * 4000])
def test_a_body_that_is_not_a_json_object_is_400_invalid_json(api, body):
    answer = api.post(SEND, body)
    assert (answer.status, answer.body["error"]) == (400, "invalid_json")


@pytest.mark.parametrize("path", [SEND, CHECK])
def test_other_content_types_415_methods_405_and_big_bodies_413(api, path):
    form = api.post(path, "phone=%2B33612345678", content_type="application/x-www-form-urlencoded")
    assert (form.status, form.body["error"]) == (415, "unsupported_media_type")
    get = api.get(path)
    assert (get.status, get.body["error"], get.headers["Allow"]) == (405, "method_not_allowed", "POST")
    big = api.post(path, {"phone": PHONE, "padding": "x" * MAX_BODY_BYTES})
    assert (big.status, big.body["error"]) == (413, "too_large")
    assert not PhoneVerification.objects.exists()

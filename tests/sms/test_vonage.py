"""Vonage as a backend (the real vonage SDK against a fake Vonage), and its signed delivery receipts."""

from __future__ import annotations

import pytest
from vonage import Auth

from tests.helpers import PHONE, at, code_in
from verification import services
from verification.models import SentMessage
from verification.services import CheckOutcome, SendOutcome
from verification.sms import SmsProblem

pytestmark = pytest.mark.django_db

SIGNATURE_SECRET = "vonage-signature-secret-for-tests"


@pytest.fixture
def vonage(fake_vonage, settings):
    settings.SMS_BACKEND = "vonage"
    return fake_vonage


def test_vonage_carries_the_code(vonage):
    assert services.send_code(PHONE, at(0)).outcome is SendOutcome.SENT
    [request] = vonage.requests
    assert request.path == "/sms/json"
    assert request.form["to"] == PHONE.lstrip("+") and request.form["from"] == "AcmeOTP"
    assert request.basic_auth == f"{vonage.api_key}:{vonage.api_secret}"
    message = SentMessage.objects.get()
    assert message.provider == "vonage" and message.sid
    assert services.check_code(PHONE, code_in(request.form["text"]), at(5)).outcome is CheckOutcome.VERIFIED


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        ("6", SmsProblem.INVALID_NUMBER),
        ("7", SmsProblem.OPTED_OUT),
        ("29", SmsProblem.COUNTRY_NOT_ALLOWED),
        ("1", SmsProblem.UNAVAILABLE),  # throttled
        ("4", SmsProblem.UNAVAILABLE),  # bad credentials
    ],
)
def test_vonages_refusals(vonage, status, problem):
    vonage.refuse(status, "refused")
    result = services.send_code(PHONE, at(0))
    assert (result.outcome, result.problem) == (SendOutcome.FAILED, problem)


def test_a_broken_or_silent_vonage_is_its_problem(vonage):
    vonage.server_error()
    assert services.send_code(PHONE, at(0)).problem is SmsProblem.UNAVAILABLE
    vonage.hang(times=1)
    assert services.send_code("+33612345679", at(0)).problem is SmsProblem.UNAVAILABLE


def test_twilio_down_vonage_delivers(fake_twilio, fake_vonage, settings):
    settings.SMS_FALLBACK_BACKENDS = ["vonage"]
    fake_twilio.fail_with(20429, "Too Many Requests", 429, times=None)
    assert services.send_code(PHONE, at(0)).outcome is SendOutcome.SENT
    assert SentMessage.objects.get().provider == "vonage"
    assert services.check_code(PHONE, code_in(fake_vonage.requests[0].form["text"]), at(5)).outcome is (
        CheckOutcome.VERIFIED
    )


def signed(params: dict[str, str], secret: str = SIGNATURE_SECRET, api_key: str = "") -> dict[str, str]:
    """Sign a receipt as Vonage does, with the vonage SDK's own signing."""
    auth = Auth(api_key=api_key, signature_secret=secret, signature_method="sha256")
    params = dict(params, api_key=api_key)
    params["sig"] = auth.sign_params(params)
    return {k: str(v) for k, v in params.items()}


def test_signed_receipts_feed_the_message_log(vonage, settings, client):
    settings.VONAGE_SIGNATURE_SECRET = SIGNATURE_SECRET
    settings.VONAGE_SIGNATURE_METHOD = "sha256"
    services.send_code(PHONE, at(0))
    sid = SentMessage.objects.get().sid
    receipt = {"messageId": sid, "msisdn": PHONE.lstrip("+"), "status": "delivered", "err-code": "0"}
    assert client.get("/sms/vonage/status/", signed(receipt, api_key=vonage.api_key)).status_code == 200
    assert SentMessage.objects.get().status == "delivered"
    # Unsigned, or signed with another secret: refused, nothing recorded.
    failed = {**receipt, "status": "failed"}
    assert client.post("/sms/vonage/status/", failed).status_code == 403
    assert client.post("/sms/vonage/status/", signed(failed, "other", vonage.api_key)).status_code == 403
    assert SentMessage.objects.get().status == "delivered"


def test_receipts_without_a_signature_secret_are_refused(vonage, client):
    receipt = signed({"messageId": "abc", "status": "delivered"}, api_key=vonage.api_key)
    assert client.post("/sms/vonage/status/", receipt).status_code == 403

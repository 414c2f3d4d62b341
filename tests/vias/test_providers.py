"""Ways across providers: the failover chain skips a backend for a way it cannot deliver, the whole chain is one
claim, every provider down gives everything back on every flow and way; Verify and the hook are told the way,
Vonage's receipts fall back by themselves, and the system check looks at every chain."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.helpers import PHONE, T0, at
from tests.sms.test_vonage import SIGNATURE_SECRET, signed
from verification import services
from verification.models import Flow, PhoneVerification, RateEvent, SentMessage, VerificationEvent
from verification.services import SendOutcome
from verification.sms.checks import check_delivery_methods

pytestmark = pytest.mark.django_db

FILE_BACKEND = "verification.sms.backends.filebased.SmsBackend"
VONAGE_BACKEND = "verification.sms.backends.vonage.SmsBackend"


@pytest.fixture
def every_way(settings):
    settings.OTP_DELIVERY_METHODS = "sms,call,whatsapp"
    return settings


def test_a_call_skips_a_provider_that_only_texts(fake_vonage, fake_hook, every_way):
    every_way.SMS_BACKEND = "vonage"
    every_way.SMS_FALLBACK_BACKENDS = ["hook"]
    result = services.send_code(PHONE, at(0), via="call", client_ip="203.0.113.9")
    assert (result.outcome, result.via) == (SendOutcome.SENT, "call")
    assert fake_vonage.requests == []
    assert fake_hook.requests[-1].json["via"] == "call"
    message = SentMessage.objects.get()
    assert (message.provider, message.via, message.failed_over) == ("hook", "call", False)
    assert RateEvent.objects.filter(scope="number", key=PHONE).count() == 1
    # A text still goes to Vonage first.
    services.send_code("+33612345679", at(0), via="sms")
    assert len(fake_vonage.requests) == 1 and len(fake_hook.requests) == 1


@pytest.fixture
def every_provider_down(every_way, fake_hook, tmp_path):
    """A file backend that cannot write, then a hook that answers 500: nobody carries anything."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    every_way.SMS_BACKEND = FILE_BACKEND
    every_way.SMS_FILE_PATH = blocker
    every_way.SMS_FALLBACK_BACKENDS = ["hook"]
    fake_hook.answer(500, "{}", times=None)
    return fake_hook


@pytest.mark.parametrize("flow", list(Flow))
@pytest.mark.parametrize("via", ["sms", "call", "whatsapp"])
def test_every_provider_down_gives_everything_back_on_every_flow_and_way(every_provider_down, flow, via):
    result = services.send_code(PHONE, at(0), flow=flow, via=via, client_ip="203.0.113.9", session_key="s")
    assert result.outcome is SendOutcome.FAILED
    assert every_provider_down.requests[-1].json["via"] == via
    assert RateEvent.objects.count() == 0
    record = PhoneVerification.objects.get()
    assert (record.next_send_at, record.code_hash) == (None, "")
    event = VerificationEvent.objects.get(kind="send_failed")
    assert (event.flow, event.via, event.provider) == (flow.value, via, "hook")


def test_twilio_verify_is_told_the_way(fake_verify, every_way):
    every_way.SMS_BACKEND = "twilio_verify"
    for i, via in enumerate(["call", "whatsapp", "sms"]):
        assert services.send_code(f"+3361234567{i}", at(0), via=via).outcome is SendOutcome.SENT
    assert [r.form["Channel"] for r in fake_verify.requests] == ["call", "whatsapp", "sms"]
    assert all(r.violations == () for r in fake_verify.requests)


def test_a_call_speaks_the_language_of_the_page_that_asked_even_when_sent_by_itself(fake_hook, every_way):
    every_way.SMS_BACKEND = "hook"
    services.send_code(PHONE, at(0), via="sms", language="fr")
    assert fake_hook.requests[-1].json["locale"] == "fr"


def test_an_undelivered_vonage_text_is_followed_by_one_call(fake_vonage, fake_hook, every_way, client, frozen):
    every_way.SMS_BACKEND = "vonage"
    every_way.SMS_FALLBACK_BACKENDS = ["hook"]
    every_way.OTP_AUTO_FALLBACK = True
    every_way.VONAGE_SIGNATURE_SECRET = SIGNATURE_SECRET
    every_way.VONAGE_SIGNATURE_METHOD = "sha256"
    services.send_code(PHONE, T0, via="sms")
    sid = SentMessage.objects.get().sid
    receipt = {"messageId": sid, "msisdn": PHONE.lstrip("+"), "status": "failed", "err-code": "1"}
    for _ in range(2):
        assert client.post("/sms/vonage/status/", signed(receipt, api_key=fake_vonage.api_key)).status_code == 200
    # Vonage texts only: the call goes to the hook, once, sent by the site itself.
    assert [r.json["via"] for r in fake_hook.requests] == ["call"]
    call = SentMessage.objects.get(via="call")
    assert (call.provider, call.automatic) == ("hook", True)
    assert RateEvent.objects.filter(scope="number", key=PHONE).count() == 2


def test_the_check_of_ways_looks_at_the_fallbacks_and_each_route(settings):
    settings.OTP_DELIVERY_METHODS = "sms,call"
    settings.SMS_BACKEND = VONAGE_BACKEND
    assert [e.id for e in check_delivery_methods()] == ["verification.E060"]
    settings.SMS_FALLBACK_BACKENDS = ["locmem"]
    assert check_delivery_methods() == []
    settings.SMS_ROUTES = {"FR": ["vonage"]}
    [error] = check_delivery_methods()
    assert error.id == "verification.E060" and "SMS_ROUTES FR" in error.msg and "'call'" in error.msg
    with pytest.raises(SystemCheckError):
        call_command("check")

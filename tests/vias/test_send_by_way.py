"""Each way (sms, call, whatsapp) through one send path: it sends, its code verifies, wrong codes lock, limits count."""

from __future__ import annotations

import pytest

from tests.helpers import PHONE, T0, at, wrong_code
from verification import services
from verification.models import PhoneVerification, SentMessage, VerificationEvent
from verification.services import CheckOutcome, SendOutcome

pytestmark = pytest.mark.django_db

ALL_WAYS = "sms,call,whatsapp"


@pytest.fixture
def every_way(settings):
    settings.OTP_DELIVERY_METHODS = ALL_WAYS
    return settings


@pytest.mark.parametrize("via", ["sms", "call", "whatsapp"])
def test_each_way_sends_and_its_code_verifies(every_way, sms_outbox, via):
    result = services.send_code(PHONE, T0, via=via, language="fr")
    assert (result.outcome, result.via) == (SendOutcome.SENT, via)
    message = sms_outbox[-1]
    assert (message.to, message.via, message.language) == (PHONE, via, "fr")
    assert message.code in message.body.replace(" ", "")
    assert SentMessage.objects.get().via == via
    record = PhoneVerification.objects.get()
    assert (record.last_via, record.last_language) == (via, "fr")
    event = VerificationEvent.objects.get(kind="sent")
    assert (event.via, event.automatic) == (via, False)
    assert services.check_code(PHONE, message.code, at(5)).outcome is CheckOutcome.VERIFIED


@pytest.mark.parametrize("via", ["call", "whatsapp"])
def test_wrong_codes_lock_a_number_whatever_the_way(every_way, sms_outbox, via):
    services.send_code(PHONE, T0, via=via)
    bad = wrong_code(sms_outbox[-1].code)
    outcomes = [services.check_code(PHONE, bad, at(i + 1)).outcome for i in range(3)]
    assert outcomes == [CheckOutcome.MISMATCH, CheckOutcome.MISMATCH, CheckOutcome.LOCKED]
    assert services.check_code(PHONE, sms_outbox[-1].code, at(5)).outcome is CheckOutcome.LOCKED


def test_the_first_way_is_the_default(settings, sms_outbox):
    settings.OTP_DELIVERY_METHODS = "call,sms"
    assert services.send_code(PHONE, T0).via == "call"
    assert sms_outbox[-1].via == "call"


def test_a_way_that_is_not_enabled_sends_nothing(sms_outbox):
    result = services.send_code(PHONE, T0, via="call")
    assert result.outcome is SendOutcome.REFUSED and result.error.code == "via_not_enabled"
    assert sms_outbox == [] and not PhoneVerification.objects.exists()


def test_calls_outside_the_call_countries_are_refused_with_no_call(every_way, sms_outbox):
    every_way.OTP_CALL_ALLOWED_COUNTRIES = "GB"
    result = services.send_code(PHONE, T0, via="call")
    assert result.outcome is SendOutcome.REFUSED and result.error.code == "call_country_not_allowed"
    assert "call" in result.error.messages[0]
    assert sms_outbox == [] and not PhoneVerification.objects.exists()
    # Whom it could hurt: the same French number still gets its code by text or WhatsApp, a British one a call.
    assert services.send_code(PHONE, T0, via="sms").outcome is SendOutcome.SENT
    assert services.send_code("+447400123456", T0, via="call").outcome is SendOutcome.SENT
    assert services.vias_for(PHONE) == ["sms", "whatsapp"]


def test_call_countries_default_to_the_allowed_countries(every_way, sms_outbox):
    every_way.OTP_ALLOWED_COUNTRIES = "FR"
    assert services.vias_for("+447400123456") == []
    assert services.vias_for(PHONE) == ["sms", "call", "whatsapp"]


def test_a_call_may_ring_a_landline_a_text_may_not(every_way, sms_outbox):
    landline = "+33142685300"
    assert services.send_code(landline, T0, via="sms").error.code == "number_type_not_allowed"
    assert services.send_code(landline, T0, via="call").outcome is SendOutcome.SENT
    assert services.vias_for(landline) == ["call"]


def test_every_way_takes_the_same_cooldown(every_way, sms_outbox):
    assert services.send_code(PHONE, T0, via="sms").outcome is SendOutcome.SENT
    assert services.send_code(PHONE, at(1), via="call").outcome is SendOutcome.COOLDOWN
    assert services.send_code(PHONE, at(1), via="whatsapp").outcome is SendOutcome.COOLDOWN
    assert len(sms_outbox) == 1


def test_limits_count_sends_of_every_way_together(every_way, sms_outbox):
    every_way.OTP_SEND_LIMITS_PER_NUMBER = "3/1h"
    every_way.OTP_RESEND_COOLDOWN_SECONDS = 10
    ways = ["sms", "call", "whatsapp", "call"]
    outcomes = [services.send_code(PHONE, at(60 * i), via=via).outcome for i, via in enumerate(ways)]
    assert outcomes == [SendOutcome.SENT, SendOutcome.SENT, SendOutcome.SENT, SendOutcome.RATE_LIMITED]
    assert [m.via for m in sms_outbox] == ["sms", "call", "whatsapp"]
    # Another number is not held back by this one's sends.
    assert services.send_code("+33612345679", at(200), via="call").outcome is SendOutcome.SENT


def test_the_budget_and_ip_limits_count_every_way(every_way, sms_outbox):
    every_way.OTP_SEND_BUDGET = "2/1h"
    assert services.send_code(PHONE, T0, via="call").outcome is SendOutcome.SENT
    assert services.send_code("+33612345679", T0, via="whatsapp").outcome is SendOutcome.SENT
    assert services.send_code("+33612345670", T0, via="sms").outcome is SendOutcome.RATE_LIMITED


def test_the_pumping_brake_counts_calls_like_texts(every_way, sms_outbox):
    every_way.OTP_PUMPING_MIN_SENDS = 2
    every_way.OTP_PUMPING_MIN_CONVERSION = 0.5
    assert services.send_code("+33612345670", T0, via="call").outcome is SendOutcome.SENT
    assert services.send_code("+33612345671", T0, via="call").outcome is SendOutcome.SENT
    refused = services.send_code("+33612345672", T0, via="call")
    assert (refused.outcome, refused.limit) == (SendOutcome.RATE_LIMITED, "pumping")
    # A range elsewhere is not paused.
    assert services.send_code("+447400123456", T0, via="call").outcome is SendOutcome.SENT


def test_a_failed_call_gives_back_its_claim(every_way, sms_down):
    sms_down()
    result = services.send_code(PHONE, T0, via="call")
    assert result.outcome is SendOutcome.FAILED
    event = VerificationEvent.objects.get(kind="send_failed")
    assert event.via == "call"
    assert PhoneVerification.objects.get().next_send_at is None

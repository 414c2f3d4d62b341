"""Codes another library made (django-allauth, django-two-factor-auth), delivered through the app's send policy.

services.relay_code claims exactly like send_code and stores nothing of the code; relay_verified tells the
pumping brake a person typed it. The libraries themselves are driven in tests/integrations.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.helpers import CODE_A, PHONE, T0, at, fixed_codes
from verification import services
from verification.models import PhoneVerification, PumpingTally, RateEvent, SentMessage, VerificationEvent
from verification.services import SendOutcome

pytestmark = pytest.mark.django_db

ALLAUTH = VerificationEvent.Channel.ALLAUTH


def relay(now=T0, phone=PHONE, **kwargs):
    return services.relay_code(phone, services.relayed_sms_body("4KQ7-ZD2M"), now, channel=ALLAUTH, **kwargs)


def test_a_relayed_code_is_sent_counted_and_never_stored(sms_outbox):
    result = relay(client_ip="192.0.2.1", session_key="abc", flow="sign_in")
    assert result.outcome is SendOutcome.SENT and result.retry_at == at(120)
    [sms] = sms_outbox
    assert sms.body == "Phone verification: your code is 4KQ7-ZD2M. Do not share it."
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.code_hash == "" and record.code_expires_at is None
    assert record.send_count == 1 and record.last_sent_at == T0 and record.next_send_at == at(120)
    assert sorted(RateEvent.objects.values_list("scope", flat=True)) == ["budget", "ip", "number", "session"]
    assert PumpingTally.objects.get().sent == 1
    assert SentMessage.objects.filter(verification=record).count() == 1
    event = VerificationEvent.objects.get()
    assert (event.kind, event.channel, event.flow, event.client_ip) == ("sent", "allauth", "sign_in", "192.0.2.1")


def test_relayed_sends_and_the_apps_own_share_the_cooldown_and_the_number_limit(sms_outbox):
    assert relay().outcome is SendOutcome.SENT
    assert services.send_code(PHONE, at(60)).outcome is SendOutcome.COOLDOWN
    assert relay(at(60)).outcome is SendOutcome.COOLDOWN
    for minutes in (3, 6, 9, 12):
        assert relay(at(minutes=minutes)).outcome is SendOutcome.SENT
    refused = relay(at(minutes=15))
    assert refused.outcome is SendOutcome.RATE_LIMITED and refused.limit == "number"
    assert services.send_code(PHONE, at(minutes=15)).outcome is SendOutcome.RATE_LIMITED
    assert len(sms_outbox) == 5
    assert VerificationEvent.objects.get(kind="rate_limited").channel == "allauth"


def test_a_relay_leaves_the_apps_own_live_code_alone(settings, sms_outbox):
    settings.OTP_TTL_SECONDS = 600
    with fixed_codes([CODE_A]):
        services.send_code(PHONE, T0)
    assert relay(at(121)).outcome is SendOutcome.SENT
    assert services.check_code(PHONE, CODE_A, at(130)).outcome is services.CheckOutcome.VERIFIED


def test_a_failed_relay_gives_everything_back(sms_outbox, sms_down):
    sms_down()
    result = relay(client_ip="192.0.2.1")
    assert result.outcome is SendOutcome.FAILED
    assert not RateEvent.objects.exists() and PumpingTally.objects.get().sent == 0
    assert not PhoneVerification.objects.get(phone=PHONE).in_cooldown(T0)
    assert VerificationEvent.objects.get().kind == "send_failed"


def test_a_call_without_the_code_itself_is_refused_before_any_claim(settings, sms_outbox):
    settings.OTP_DELIVERY_METHODS = "sms,call"
    # A call reads the code out: a library that hands over only a text cannot be called.
    result = relay(via="call")
    assert result.outcome is SendOutcome.REFUSED and result.error.code == "via_not_available"
    assert not sms_outbox and not PhoneVerification.objects.exists() and not RateEvent.objects.exists()


def call(now=T0, phone=PHONE, code="481516", **kwargs):
    return relay(now, phone, via="call", code=code, **kwargs)


def test_a_relayed_call_reads_the_code_out_in_the_pages_language_counted_like_any_send(settings, sms_outbox):
    settings.OTP_DELIVERY_METHODS = "sms,call"
    result = call(client_ip="192.0.2.1", language="fr")
    assert result.outcome is SendOutcome.SENT and result.retry_at == at(120)
    [message] = sms_outbox
    assert (message.via, message.code, message.language) == ("call", "481516", "fr")
    # What the call says, not the library's text message (a console backend shows this).
    assert message.body.startswith("Ici Phone verification") and "4 8 1 5 1 6" in message.body
    assert SentMessage.objects.get().via == "call"
    event = VerificationEvent.objects.get()
    assert (event.kind, event.channel, event.via) == ("sent", "allauth", "call")
    assert RateEvent.objects.count() == 3  # number, IP, site budget: one claim
    # One claim per send, whatever the way: a text right after the call waits for the same cooldown.
    assert relay(at(60)).outcome is SendOutcome.COOLDOWN
    assert len(sms_outbox) == 1


def test_a_relayed_call_follows_the_rules_of_the_apps_own_calls(settings, sms_outbox):
    # Calls not offered here: refused as our own pages refuse them, nothing claimed.
    refused = call()
    assert refused.outcome is SendOutcome.REFUSED and refused.error.code == "via_not_enabled"
    settings.OTP_DELIVERY_METHODS = "sms,call"
    settings.OTP_CALL_ALLOWED_COUNTRIES = "US"
    # A country calls may not go to, while texts may.
    refused = call()
    assert refused.outcome is SendOutcome.REFUSED and refused.error.code == "call_country_not_allowed"
    assert not sms_outbox and not RateEvent.objects.exists()
    assert relay().outcome is SendOutcome.SENT


def test_a_relayed_code_typed_right_makes_the_number_known_to_the_brake(sms_outbox):
    relay()
    assert services.relay_verified(PHONE, at(30), channel=ALLAUTH) is True
    tally = PumpingTally.objects.get()
    assert (tally.sent, tally.verified) == (1, 1)
    assert PhoneVerification.objects.get(phone=PHONE).verified_at == at(30)
    # Known now: the brake neither counts its next sends nor its next verifications.
    relay(at(121))
    assert services.relay_verified(PHONE, at(150), channel=ALLAUTH) is False
    tally.refresh_from_db()
    assert (tally.sent, tally.verified) == (1, 1)
    assert list(VerificationEvent.objects.order_by("id").values_list("kind", flat=True)) == [
        "sent",
        "verified",
        "sent",
        "verified",
    ]


def test_a_relayed_code_typed_right_ends_the_cooldown_as_our_own_codes_do(sms_outbox):
    relay()
    assert relay(at(30)).outcome is SendOutcome.COOLDOWN
    services.relay_verified(PHONE, at(40), channel=ALLAUTH)
    # Its owner used the code: the next one (a login right after a phone was set up) goes at once.
    assert relay(at(50)).outcome is SendOutcome.SENT
    assert len(sms_outbox) == 2


def test_a_number_the_app_never_texted_is_not_marked(sms_outbox):
    assert services.relay_verified(PHONE, T0, channel=ALLAUTH) is False
    assert not PhoneVerification.objects.exists() and not VerificationEvent.objects.exists()


def sent_count(provider: str) -> float:
    return REGISTRY.get_sample_value("otp_sms_sent_total", {"provider": provider, "via": "sms"}) or 0.0


def test_a_relayed_code_fails_over_as_one_send(fake_twilio, fake_hook, settings, django_capture_on_commit_callbacks):
    settings.SMS_FALLBACK_BACKENDS = ["hook"]
    fake_twilio.server_error(times=None)
    before = sent_count("hook")
    with django_capture_on_commit_callbacks(execute=True):
        assert relay(client_ip="192.0.2.1").outcome is SendOutcome.SENT
    assert "4KQ7-ZD2M" in fake_hook.requests[-1].json["text"]
    # One claim for the whole chain: each limit counted once.
    assert sorted(RateEvent.objects.values_list("scope", flat=True)) == ["budget", "ip", "number"]
    message = SentMessage.objects.get()
    assert (message.provider, message.failed_over) == ("hook", True)
    assert VerificationEvent.objects.get(kind="sent").provider == "hook"
    assert sent_count("hook") == before + 1


def test_a_relay_every_provider_failed_gives_everything_back_once(fake_twilio, fake_hook, settings):
    settings.SMS_FALLBACK_BACKENDS = ["hook"]
    fake_twilio.server_error(times=None)
    fake_hook.answer(503, times=None)
    result = relay(client_ip="192.0.2.1")
    assert result.outcome is SendOutcome.FAILED
    assert not RateEvent.objects.exists() and PumpingTally.objects.get().sent == 0
    assert not PhoneVerification.objects.get(phone=PHONE).in_cooldown(T0)
    failed = VerificationEvent.objects.get()
    assert (failed.kind, failed.provider) == ("send_failed", "hook")
    assert not SentMessage.objects.exists()


def test_a_relay_skips_a_provider_that_would_send_its_own_code(fake_verify, settings, sms_outbox):
    settings.SMS_BACKEND = "twilio_verify"
    settings.SMS_FALLBACK_BACKENDS = ["locmem"]
    assert relay().outcome is SendOutcome.SENT
    # Twilio Verify was never asked: it would have texted a code of its own, which allauth cannot check.
    assert fake_verify.requests == []
    [sms] = sms_outbox
    assert "4KQ7-ZD2M" in sms.body
    message = SentMessage.objects.get()
    assert (message.provider, message.failed_over) == ("locmem", False)
    # The app's own pages still use Twilio Verify first.
    assert services.send_code("+33612345677", at(0)).outcome is SendOutcome.SENT
    assert len(fake_verify.requests) == 1 and len(sms_outbox) == 1


def test_a_relay_with_only_providers_that_make_their_own_code_fails_clearly_claiming_nothing(
    fake_verify, settings, sms_outbox, caplog
):
    settings.SMS_BACKEND = "twilio_verify"
    result = relay(client_ip="192.0.2.1")
    assert result.outcome is SendOutcome.FAILED
    assert fake_verify.requests == [] and not sms_outbox
    assert not PhoneVerification.objects.exists() and not RateEvent.objects.exists()
    assert "each backend for this number makes its own code" in caplog.text


def test_a_check_names_a_project_whose_only_backend_makes_its_own_code(settings):
    from verification.contrib.checks import check_relay_backends

    settings.SMS_BACKEND = "twilio_verify"
    assert check_relay_backends() == []  # no integration named: the app's own pages are fine with Verify alone
    settings.ACCOUNT_ADAPTER = "verification.contrib.allauth.AccountAdapter"
    assert [m.id for m in check_relay_backends()] == ["verification.E257"]
    settings.SMS_FALLBACK_BACKENDS = ["locmem"]
    assert check_relay_backends() == []
    settings.SMS_ROUTES = {"FR": ["twilio_verify"]}
    [warning] = check_relay_backends()
    assert warning.id == "verification.W258" and warning.msg.endswith(": FR.")
    settings.SMS_ROUTES = {"FR": ["twilio_verify"], "*": ["twilio_verify"]}
    assert [m.id for m in check_relay_backends()] == ["verification.E257"]

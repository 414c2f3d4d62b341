"""The failover chain: another provider carries the code when the first is down, the whole chain is one send."""

from __future__ import annotations

import json

import pytest
from django.db.models import Sum
from standardwebhooks.webhooks import Webhook

from tests.fakes.hook_server import HOOK_BACKEND
from tests.helpers import PHONE, at, code_in, in_parallel
from verification import services
from verification.limits import outage
from verification.models import PhoneVerification, PumpingTally, RateEvent, SentMessage, VerificationEvent
from verification.services import CheckOutcome, SendOutcome
from verification.sms import SmsProblem

pytestmark = pytest.mark.django_db

US_PHONE = "+14155552671"
HTML_500 = "<html><body><h1>500 Internal Server Error</h1></body></html>"


@pytest.fixture
def chain(fake_twilio, fake_hook, settings):
    """Twilio first, the hook behind it."""
    settings.TWILIO_TIMEOUT_SECONDS = 0.3
    settings.SMS_FALLBACK_BACKENDS = ["hook"]
    return fake_twilio, fake_hook


def hook_code(fake_hook) -> str:
    return code_in(fake_hook.requests[-1].json["text"])


FAULTS = {
    "html-500": lambda twilio: twilio.server_error(times=None),
    "hang": lambda twilio: twilio.hang(times=None),
    "throttled-20429": lambda twilio: twilio.fail_with(20429, "Too Many Requests", 429, times=None),
    "bad-credentials-20003": lambda twilio: twilio.fail_with(20003, "Authenticate", 401, times=None),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_failing_primary_hands_the_code_to_the_secondary_and_the_code_works(chain, fault, caplog):
    twilio, hook = chain
    fault(twilio)

    result = services.send_code(PHONE, at(0), client_ip="203.0.113.9")

    assert result.outcome is SendOutcome.SENT
    assert len(twilio.requests) == 1 and len(hook.requests) == 1
    message = SentMessage.objects.get()
    assert (message.provider, message.failed_over) == ("hook", True)
    sent = VerificationEvent.objects.get(kind=VerificationEvent.Kind.SENT)
    assert sent.provider == "hook"
    assert services.check_code(PHONE, hook_code(hook), at(10)).outcome is CheckOutcome.VERIFIED
    assert "sms provider twilio did not take the message" in caplog.text


def test_a_working_primary_is_the_only_one_called(chain):
    twilio, hook = chain
    assert services.send_code(PHONE, at(0)).outcome is SendOutcome.SENT
    assert (len(twilio.requests), len(hook.requests)) == (1, 0)
    assert SentMessage.objects.get().provider == "twilio"


@pytest.mark.parametrize(("code", "problem"), [(21211, SmsProblem.INVALID_NUMBER), (21610, SmsProblem.OPTED_OUT)])
def test_the_persons_own_problem_is_not_sent_elsewhere(chain, code, problem):
    twilio, hook = chain
    twilio.fail_with(code, "refused", times=None)
    result = services.send_code(PHONE, at(0))
    assert (result.outcome, result.problem) == (SendOutcome.FAILED, problem)
    assert hook.requests == []


def test_when_every_provider_fails_nothing_is_consumed(chain, settings):
    twilio, hook = chain
    settings.OTP_SEND_LIMITS_PER_NUMBER = "1/1h"
    settings.OTP_SEND_BUDGET = "1/1h"
    twilio.server_error(times=None)
    hook.answer(502, HTML_500, "text/html", times=None)

    result = services.send_code(PHONE, at(0), client_ip="203.0.113.9")

    assert (result.outcome, result.problem) == (SendOutcome.FAILED, SmsProblem.UNAVAILABLE)
    record = PhoneVerification.objects.get(phone=PHONE)
    assert (record.next_send_at, record.send_count, record.code_hash) == (None, 0, "")
    assert not RateEvent.objects.exists()
    assert (PumpingTally.objects.aggregate(n=Sum("sent"))["n"] or 0) == 0
    assert not SentMessage.objects.exists()
    failed = VerificationEvent.objects.get(kind=VerificationEvent.Kind.SEND_FAILED)
    assert failed.provider == "hook"
    # Given back whole: with a limit of one send an hour, the next send goes out at once.
    twilio.reset()
    assert services.send_code(PHONE, at(1), client_ip="203.0.113.9").outcome is SendOutcome.SENT


def test_an_open_breaker_skips_the_primary_until_its_probe(chain, settings):
    twilio, hook = chain
    twilio.server_error(times=None)
    for i in range(3):
        assert services.send_code(f"+336123456{i:02d}", at(i)).outcome is SendOutcome.SENT
    assert len(twilio.requests) == 3
    # The primary is down: the next sends go straight to the hook, the primary sees nothing.
    for i in range(3, 10):
        assert services.send_code(f"+336123456{i:02d}", at(5)).outcome is SendOutcome.SENT
    assert len(twilio.requests) == 3 and len(hook.requests) == 10
    # Its probe (OTP_OUTAGE_PROBE_INTERVAL, 10 s) tries it once; back up, it carries the sends again.
    twilio.reset()  # forgets the requests too
    assert services.send_code("+33612345610", at(13)).outcome is SendOutcome.SENT
    assert len(twilio.requests) == 1 and len(hook.requests) == 10
    assert SentMessage.objects.filter(provider="twilio").count() == 1
    assert not outage.is_down(at(13), "verification.sms.backends.twilio.SmsBackend")


def test_every_provider_down_fails_at_once_without_claiming(chain):
    twilio, hook = chain
    twilio.server_error(times=None)
    hook.answer(500, "", times=None)
    for i in range(3):
        services.send_code(f"+336123456{i:02d}", at(i))
    calls = len(twilio.requests) + len(hook.requests)
    events = VerificationEvent.objects.count()
    result = services.send_code("+33612345699", at(5))
    assert (result.outcome, result.problem) == (SendOutcome.FAILED, SmsProblem.UNAVAILABLE)
    assert len(twilio.requests) + len(hook.requests) == calls
    assert VerificationEvent.objects.count() == events
    assert not PhoneVerification.objects.filter(phone="+33612345699").exists()


def test_routes_send_each_region_through_its_own_provider(fake_twilio, fake_hook, settings):
    settings.SMS_ROUTES = {"FR": ["hook"], "*": ["twilio"]}
    assert services.send_code(PHONE, at(0)).outcome is SendOutcome.SENT
    assert services.send_code(US_PHONE, at(0)).outcome is SendOutcome.SENT
    assert [r.json["to"] for r in fake_hook.requests] == [PHONE]
    assert [r.form["To"] for r in fake_twilio.requests] == [US_PHONE]
    assert dict(SentMessage.objects.values_list("verification__phone", "provider")) == {
        PHONE: "hook",
        US_PHONE: "twilio",
    }


def test_routes_read_from_text_and_fail_over_within_the_route(fake_twilio, fake_hook, settings):
    settings.SMS_ROUTES = "US=twilio,hook; *=hook"
    fake_twilio.server_error()
    assert services.send_code(US_PHONE, at(0)).outcome is SendOutcome.SENT
    assert [r.json["to"] for r in fake_hook.requests] == [US_PHONE]


def test_the_deadline_stops_the_chain(chain, settings):
    twilio, hook = chain
    settings.SMS_SEND_DEADLINE_SECONDS = 0.2
    twilio.hang(times=None)
    result = services.send_code(PHONE, at(0))
    # Twilio's 0.3 s timeout is cut to the deadline; no time is left for the hook.
    assert (result.outcome, result.problem) == (SendOutcome.FAILED, SmsProblem.UNAVAILABLE)
    assert hook.requests == []


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_sends_during_an_outage_are_all_delivered_and_counted_once(chain, settings):
    twilio, hook = chain
    settings.OTP_SEND_BUDGET = "100/1h"
    settings.OTP_SEND_LIMITS_PER_IP = "100/1h"
    settings.OTP_PUMPING_MIN_SENDS = 1000
    twilio.server_error(times=None)
    numbers = [f"+336123456{i:02d}" for i in range(20)]

    results = in_parallel(20, lambda i: services.send_code(numbers[i], at(0), client_ip="203.0.113.9"))

    assert [r.outcome for r in results] == [SendOutcome.SENT] * 20
    assert sorted(r.json["to"] for r in hook.requests) == numbers
    assert SentMessage.objects.filter(provider="hook").count() == 20
    assert RateEvent.objects.filter(scope="budget").count() == 20
    assert RateEvent.objects.filter(scope="ip").count() == 20
    assert set(PhoneVerification.objects.values_list("send_count", flat=True)) == {1}


def test_the_hook_is_signed_the_standard_webhooks_way(fake_hook, settings):
    settings.SMS_BACKEND = HOOK_BACKEND
    assert services.send_code(PHONE, at(0)).outcome is SendOutcome.SENT
    [request] = fake_hook.requests
    # Verified by the standardwebhooks package, not by code of ours.
    payload = Webhook(fake_hook.secret).verify(request.body, request.headers)
    assert payload["to"] == PHONE and payload["via"] == "sms" and payload["id"] == request.headers["webhook-id"]
    assert set(payload) >= {"id", "to", "text", "locale", "via", "timestamp"}
    with pytest.raises(Exception, match="No matching signature"):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)


def test_the_hook_signs_with_every_secret_while_they_rotate(fake_hook, settings):
    settings.SMS_BACKEND = "hook"
    old, new = fake_hook.secret, "whsec_bmV3LXNlY3JldC1mb3ItdGhlLWhvb2stMTIzNDU2"
    settings.SMS_HOOK_SECRET = f"{new} {old}"
    assert services.send_code(PHONE, at(0)).outcome is SendOutcome.SENT
    [request] = fake_hook.requests
    assert len(request.headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(request.body, request.headers)["to"] == PHONE


@pytest.mark.parametrize(
    ("status", "body", "content_type", "problem"),
    [
        (200, json.dumps({"problem": "invalid_number"}), "application/json", SmsProblem.INVALID_NUMBER),
        (200, json.dumps({"problem": "opted_out"}), "application/json", SmsProblem.OPTED_OUT),
        (200, json.dumps({"problem": "country_not_allowed"}), "application/json", SmsProblem.COUNTRY_NOT_ALLOWED),
        (200, "<html>ok</html>", "text/html", SmsProblem.UNAVAILABLE),
        (503, "", "text/plain", SmsProblem.UNAVAILABLE),
        (400, "{}", "application/json", SmsProblem.UNAVAILABLE),
    ],
)
def test_the_hooks_answers(fake_hook, settings, status, body, content_type, problem):
    settings.SMS_BACKEND = "hook"
    fake_hook.answer(status, body, content_type)
    result = services.send_code(PHONE, at(0))
    assert (result.outcome, result.problem) == (SendOutcome.FAILED, problem)


def test_the_hooks_message_id_is_kept(fake_hook, settings):
    settings.SMS_BACKEND = "hook"
    fake_hook.answer(202, json.dumps({"id": "gw-42"}))
    assert services.send_code(PHONE, at(0)).outcome is SendOutcome.SENT
    assert SentMessage.objects.get().sid == "gw-42"


def test_a_hanging_hook_is_the_providers_problem(fake_hook, settings):
    settings.SMS_BACKEND = "hook"
    settings.SMS_HOOK_TIMEOUT_SECONDS = 0.2
    fake_hook.hang(times=1)
    result = services.send_code(PHONE, at(0))
    assert (result.outcome, result.problem) == (SendOutcome.FAILED, SmsProblem.UNAVAILABLE)


def test_a_backend_that_cannot_deliver_the_way_is_skipped(fake_vonage, fake_hook, settings):
    from verification.sms import SmsMessage, chain

    # Vonage texts only (Twilio, since issue 24, also calls): a call skips it for the hook.
    settings.SMS_BACKEND = "vonage"
    settings.SMS_FALLBACK_BACKENDS = ["hook"]
    message = SmsMessage(to=PHONE, body="Your code is 123456", via="call", code="123456")
    delivery = chain.deliver(message, at(0))
    assert delivery.sent and delivery.provider == "hook"
    assert fake_vonage.requests == [] and fake_hook.requests[0].json["via"] == "call"
    assert [a.skipped for a in delivery.attempts] == ["via", ""]
    assert delivery.failovers == []

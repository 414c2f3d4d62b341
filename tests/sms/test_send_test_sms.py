"""`manage.py send_test_sms`: one SMS through the configured backend, and what the provider said."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from verification.sms.backends import locmem


def test_sends_through_twilio_and_prints_the_sid(fake_twilio, capsys):
    call_command("send_test_sms", "+1 (555) 123-4567")

    [request] = fake_twilio.requests
    assert request.form["To"] == "+15551234567" and "Phone verification" in request.form["Body"]
    out = capsys.readouterr().out
    assert "verification.sms.backends.twilio.SmsBackend" in out
    assert f"sid {next(iter(fake_twilio.messages))}, status queued" in out


def test_reports_the_problem_and_fails(fake_twilio):
    fake_twilio.fail_with(21408, "Permission to send an SMS has not been enabled for the region")

    with pytest.raises(CommandError, match="country_not_allowed, provider error 21408") as excinfo:
        call_command("send_test_sms", "+15551234567")

    assert excinfo.value.returncode == 1


def test_reports_an_unreachable_provider(fake_twilio):
    fake_twilio.refuse_connections()
    with pytest.raises(CommandError, match="unavailable. Twilio refused the connection"):
        call_command("send_test_sms", "+15551234567")


def test_refuses_a_malformed_number_without_sending(fake_twilio):
    with pytest.raises(CommandError, match="is not a phone number"):
        call_command("send_test_sms", "12")
    assert fake_twilio.requests == []


def test_works_with_backends_that_have_no_sid(capsys, sms_outbox):
    call_command("send_test_sms", "+15551234567")
    assert [m.to for m in locmem.outbox] == ["+15551234567"]
    assert "Sent (this backend reports no message sid)" in capsys.readouterr().out


def test_one_provider_of_the_chain_by_its_short_name(fake_twilio, fake_hook, settings, capsys):
    settings.SMS_FALLBACK_BACKENDS = "hook"
    call_command("send_test_sms", "+15551234567", "--provider", "hook")
    assert not fake_twilio.requests
    [request] = fake_hook.requests
    assert request.json["to"] == "+15551234567" and "SMS delivery works" in request.json["text"]
    assert "verification.sms.backends.hook.SmsBackend" in capsys.readouterr().out


def test_each_provider_of_the_numbers_chain_in_turn(fake_twilio, fake_hook, settings, capsys):
    settings.SMS_FALLBACK_BACKENDS = "hook"
    call_command("send_test_sms", "+15551234567", "--each")
    assert len(fake_twilio.requests) == 1 and len(fake_hook.requests) == 1
    out = capsys.readouterr().out
    assert out.index("twilio.SmsBackend") < out.index("hook.SmsBackend") and out.count("Sent") == 2


def test_each_reports_every_provider_that_failed_and_still_tries_the_rest(fake_twilio, fake_hook, settings, capsys):
    settings.SMS_ROUTES = "FR=hook,twilio; *=twilio"
    fake_hook.answer(503, "down")
    with pytest.raises(CommandError, match=r"Not sent through 1 of 2: verification\.sms\.backends\.hook\.SmsBackend"):
        call_command("send_test_sms", "+33612345678", "--each")
    # The route for this number's region, in its order; the provider after the failed one was still tried.
    assert len(fake_hook.requests) == 1 and len(fake_twilio.requests) == 1
    assert "Not sent: unavailable" in capsys.readouterr().err


def test_a_provider_that_makes_its_own_code_is_skipped_not_failed(fake_verify, fake_hook, settings, capsys):
    settings.SMS_BACKEND = "twilio_verify"
    settings.SMS_FALLBACK_BACKENDS = "hook"
    call_command("send_test_sms", "+15551234567", "--each")
    assert not fake_verify.requests and len(fake_hook.requests) == 1
    assert "Skipped: this provider sends only codes it makes" in capsys.readouterr().out


def test_an_unknown_provider_is_a_clear_error(sms_outbox):
    with pytest.raises(CommandError, match="No SMS backend 'smoke_signals'"):
        call_command("send_test_sms", "+15551234567", "--provider", "smoke_signals")
    assert not sms_outbox

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

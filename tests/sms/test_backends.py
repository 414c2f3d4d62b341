"""Tests for verification.sms and its backends (console, filebased, locmem, twilio)."""

from __future__ import annotations

import io
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.fakes.twilio_server import twilio_signature
from verification.sms import SmsDeliveryError, SmsMessage, SmsProblem, get_connection, send_sms
from verification.sms.backends import console, filebased, locmem
from verification.sms.status_callback import signature_is_valid

TO = "+15551234567"
CODE = "493817"
BODY = f"Your verification code is {CODE}"


@pytest.fixture
def outbox() -> Iterator[list[SmsMessage]]:
    """Return the emptied locmem outbox."""
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


def test_get_connection_loads_the_backend_named_in_settings(settings):
    settings.SMS_BACKEND = "verification.sms.backends.locmem.SmsBackend"

    connection = get_connection(fail_silently=True)

    assert isinstance(connection, locmem.SmsBackend)
    assert connection.fail_silently is True
    assert isinstance(get_connection("verification.sms.backends.console.SmsBackend"), console.SmsBackend)


def test_send_sms_goes_through_the_configured_backend(settings, outbox):
    settings.SMS_BACKEND = "verification.sms.backends.locmem.SmsBackend"

    send_sms(TO, BODY)

    assert outbox == [SmsMessage(to=TO, body=BODY)]


def test_locmem_keeps_copies_of_sent_messages(outbox):
    message = SmsMessage(to=TO, body=BODY)

    assert locmem.SmsBackend().send_messages([message, SmsMessage(to="+15550000000", body="hi")]) == 2
    message.body = "changed after sending"

    assert [(m.to, m.body) for m in outbox] == [(TO, BODY), ("+15550000000", "hi")]


def test_console_prints_recipient_and_body(capsys):
    sent = console.SmsBackend().send_messages([SmsMessage(to=TO, body=BODY), SmsMessage(to=TO, body="again")])

    out = capsys.readouterr().out
    assert sent == 2
    assert f"To: {TO}\n\n{BODY}\n" in out
    assert "again" in out
    assert out.count("-" * 79) == 2


def test_console_writes_to_a_given_stream(capsys):
    stream = io.StringIO()

    console.SmsBackend(stream=stream).send_messages([SmsMessage(to=TO, body=BODY)])

    assert BODY in stream.getvalue()
    assert capsys.readouterr().out == ""


def test_filebased_writes_one_file_per_message(tmp_path):
    directory = tmp_path / "not-yet-there"
    backend = filebased.SmsBackend(file_path=directory)

    sent = backend.send_messages([SmsMessage(to=TO, body=BODY), SmsMessage(to="+15550000000", body="hi")])

    contents = sorted(path.read_text() for path in directory.iterdir())
    assert sent == 2
    assert contents == sorted([f"To: {TO}\n\n{BODY}\n", "To: +15550000000\n\nhi\n"])


def test_filebased_uses_sms_file_path_setting(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path)

    filebased.SmsBackend().send_messages([SmsMessage(to=TO, body=BODY)])

    assert [BODY in path.read_text() for path in tmp_path.iterdir()] == [True]


def test_filebased_unwritable_path_raises_delivery_error(tmp_path):
    # A file where the directory should be: unwritable even for root.
    blocker = tmp_path / "blocker"
    blocker.write_text("")

    with pytest.raises(SmsDeliveryError) as excinfo:
        filebased.SmsBackend(file_path=blocker / "outbox").send_messages([SmsMessage(to=TO, body=BODY)])

    assert CODE not in str(excinfo.value)


def test_filebased_unwritable_path_is_silent_with_fail_silently(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    backend = filebased.SmsBackend(file_path=blocker / "outbox", fail_silently=True)

    assert backend.send_messages([SmsMessage(to=TO, body=BODY)]) == 0


def test_twilio_sends_one_request_and_records_the_sid(fake_twilio):
    message = send_sms(TO, BODY)

    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.form == {"To": TO, "Body": BODY, "From": "+15005550006"}
    assert request.auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    assert request.auth_ok
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)


def test_twilio_messages_from_one_thread_share_one_connection(fake_twilio):
    for _ in range(3):
        send_sms(TO, BODY)
    other_thread = threading.Thread(target=send_sms, args=(TO, BODY))
    other_thread.start()
    other_thread.join()

    assert len(fake_twilio.requests) == 4
    # No new TCP (and, against Twilio, TLS) handshake per message: one connection per thread.
    assert fake_twilio.connections_opened == 2


def test_twilio_messages_go_to_new_credentials_at_once(fake_twilio, settings):
    send_sms(TO, BODY)
    settings.TWILIO_AUTH_TOKEN = "changed"

    with pytest.raises(SmsDeliveryError):
        send_sms(TO, BODY)
    assert fake_twilio.requests[-1].auth == (fake_twilio.account_sid, "changed")


def test_twilio_prefers_the_messaging_service(fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0" * 32

    message = send_sms(TO, BODY)

    [request] = fake_twilio.requests
    assert request.form == {"To": TO, "Body": BODY, "MessagingServiceSid": "MG" + "0" * 32}
    assert message.sid.startswith("SM")


def test_twilio_constructor_arguments_override_settings(fake_twilio):
    backend = get_connection(from_number="+15005550001")

    assert backend.send_messages([SmsMessage(to=TO, body=BODY)]) == 1
    assert fake_twilio.requests[0].form["From"] == "+15005550001"


def test_twilio_error_keeps_its_code_but_not_the_message_body(fake_twilio):
    fake_twilio.fail_with(21211, f"The 'To' number {TO} is not a valid phone number.")

    with pytest.raises(SmsDeliveryError) as excinfo:
        send_sms(TO, BODY)

    error = excinfo.value
    assert error.provider_code == 21211
    assert "21211" in str(error)
    assert CODE not in str(error)
    assert BODY not in str(error)


def test_twilio_problem_details_error_keeps_its_code(fake_twilio):
    fake_twilio.fail_with_problem(21610, "Attempt to send to unsubscribed recipient")

    with pytest.raises(SmsDeliveryError) as excinfo:
        send_sms(TO, BODY)

    assert excinfo.value.provider_code == 21610


def test_twilio_rate_limit_is_a_delivery_error(fake_twilio):
    fake_twilio.rate_limit()

    with pytest.raises(SmsDeliveryError) as excinfo:
        send_sms(TO, BODY)

    assert excinfo.value.provider_code == 20429
    assert len(fake_twilio.requests) == 1


def test_twilio_html_server_error_is_a_delivery_error_without_code(fake_twilio):
    fake_twilio.server_error()

    with pytest.raises(SmsDeliveryError) as excinfo:
        send_sms(TO, BODY)

    assert excinfo.value.provider_code is None
    assert "500" in str(excinfo.value)


def test_twilio_that_never_answers_fails_after_the_timeout_without_retrying(fake_twilio, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    fake_twilio.hang()

    started = time.monotonic()
    with pytest.raises(SmsDeliveryError) as excinfo:
        send_sms(TO, BODY)
    elapsed = time.monotonic() - started

    assert 0.4 <= elapsed < 3
    assert excinfo.value.provider_code is None
    assert CODE not in str(excinfo.value)
    assert len(fake_twilio.requests) == 1


def twilio_attempts(caplog) -> int:
    """Return how many requests the twilio library started (it logs each one before connecting)."""
    return sum(
        r.name == "twilio.http_client" and r.getMessage() == "-- BEGIN Twilio API Request --" for r in caplog.records
    )


def test_twilio_refused_connection_is_tried_exactly_twice(fake_twilio, settings, caplog):
    caplog.set_level(logging.INFO, logger="twilio.http_client")
    # A bound but non-listening socket reserves a port that refuses connections.
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        settings.TWILIO_API_BASE_URL = "http://127.0.0.1:%d" % reserved.getsockname()[1]

        with pytest.raises(SmsDeliveryError) as excinfo:
            send_sms(TO, BODY)

    assert excinfo.value.provider_code is None
    assert excinfo.value.problem is SmsProblem.UNAVAILABLE
    assert twilio_attempts(caplog) == 2
    assert fake_twilio.requests == []


def test_fake_twilio_refuses_then_accepts_connections(fake_twilio, caplog):
    caplog.set_level(logging.INFO, logger="twilio.http_client")
    fake_twilio.refuse_connections()

    with pytest.raises(SmsDeliveryError):
        send_sms(TO, BODY)
    assert twilio_attempts(caplog) == 2

    fake_twilio.accept_connections()
    assert send_sms(TO, BODY).sid.startswith("SM")
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda fake: fake.fail_with(21211, "Invalid 'To' Phone Number"), id="twilio-error"),
        pytest.param(lambda fake: fake.rate_limit(), id="429"),
        pytest.param(lambda fake: fake.server_error(), id="500"),
        pytest.param(lambda fake: fake.hang(), id="timeout"),
    ],
)
def test_twilio_never_retries_a_request_that_reached_it(fake_twilio, settings, caplog, fault):
    settings.TWILIO_TIMEOUT_SECONDS = 0.3
    caplog.set_level(logging.INFO, logger="twilio.http_client")
    fault(fake_twilio)

    with pytest.raises(SmsDeliveryError):
        send_sms(TO, BODY)

    assert len(fake_twilio.requests) == 1
    assert twilio_attempts(caplog) == 1


@pytest.mark.parametrize(
    "code,problem",
    [
        (21211, SmsProblem.INVALID_NUMBER),
        (21614, SmsProblem.INVALID_NUMBER),
        (21408, SmsProblem.COUNTRY_NOT_ALLOWED),
        (21612, SmsProblem.COUNTRY_NOT_ALLOWED),
        (21610, SmsProblem.OPTED_OUT),
        (20003, SmsProblem.UNAVAILABLE),
        (21603, SmsProblem.UNAVAILABLE),
        (30007, SmsProblem.UNAVAILABLE),
    ],
)
def test_twilio_error_codes_map_to_problems(fake_twilio, code, problem):
    fake_twilio.fail_with(code, "refused")

    with pytest.raises(SmsDeliveryError) as excinfo:
        send_sms(TO, BODY)

    assert excinfo.value.problem is problem and excinfo.value.provider_code == code


def test_twilio_problem_details_format_maps_to_a_problem_too(fake_twilio):
    fake_twilio.fail_with_problem(21610, "Attempt to send to unsubscribed recipient")

    with pytest.raises(SmsDeliveryError) as excinfo:
        send_sms(TO, BODY)

    assert excinfo.value.problem is SmsProblem.OPTED_OUT


@pytest.mark.parametrize("fault", [lambda fake: fake.rate_limit(), lambda fake: fake.server_error()])
def test_twilio_overload_and_outage_are_unavailable(fake_twilio, fault):
    fault(fake_twilio)

    with pytest.raises(SmsDeliveryError) as excinfo:
        send_sms(TO, BODY)

    assert excinfo.value.problem is SmsProblem.UNAVAILABLE


def test_twilio_asks_for_receipts_at_the_configured_url(fake_twilio, settings):
    settings.TWILIO_STATUS_CALLBACK_URL = "https://verify.example.com/sms/status/"

    message = send_sms(TO, BODY)

    assert fake_twilio.requests[0].form["StatusCallback"] == "https://verify.example.com/sms/status/"
    assert message.status == "queued"


def test_twilio_asks_for_no_receipts_without_a_url(fake_twilio):
    send_sms(TO, BODY)

    assert "StatusCallback" not in fake_twilio.requests[0].form


def test_twilio_signature_check_accepts_only_twilios_signature(settings):
    settings.TWILIO_AUTH_TOKEN = "12345678901234567890123456789012"
    url = "https://verify.example.com/sms/status/"
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    good = twilio_signature(settings.TWILIO_AUTH_TOKEN, url, form)

    assert signature_is_valid(url, form, good)
    assert not signature_is_valid(url, {**form, "MessageStatus": "failed"}, good)
    assert not signature_is_valid("http://verify.example.com/sms/status/", form, good)
    assert not signature_is_valid(url, form, twilio_signature("another token", url, form))
    assert not signature_is_valid(url, form, "")
    assert not signature_is_valid("", form, good)


def test_twilio_fail_silently_skips_failed_messages(fake_twilio):
    fake_twilio.fail_with(21211, "The 'To' number is not a valid phone number.")
    first, second = SmsMessage(to=TO, body=BODY), SmsMessage(to=TO, body=BODY)

    sent = get_connection(fail_silently=True).send_messages([first, second])

    assert sent == 1
    assert first.sid == ""
    assert second.sid.startswith("SM")
    assert len(fake_twilio.requests) == 2


def test_twilio_wrong_credentials_are_a_delivery_error(fake_twilio):
    backend = get_connection(auth_token="wrong")

    with pytest.raises(SmsDeliveryError) as excinfo:
        backend.send_messages([SmsMessage(to=TO, body=BODY)])

    assert excinfo.value.provider_code == 20003
    assert "wrong" not in str(excinfo.value)

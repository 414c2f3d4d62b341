from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from tests.helpers import PHONE, T0, at, code_in, wrong_code
from verification import audit, services
from verification.models import PhoneVerification, VerificationEvent

pytestmark = pytest.mark.django_db

Kind = VerificationEvent.Kind
MASKED = "+33 6 •• •• •• 78"


def kinds() -> list[str]:
    return list(VerificationEvent.objects.order_by("id").values_list("kind", flat=True))


def test_record_stores_the_event_and_logs_it_masked(caplog):
    caplog.set_level(logging.INFO, logger="verification")
    event = audit.record(Kind.RATE_LIMITED, PHONE, client_ip="203.0.113.7", now=T0, limit="3/m/ip")
    event.refresh_from_db()
    assert (event.kind, event.phone, event.client_ip, event.user, event.created_at) == (
        "rate_limited",
        PHONE,
        "203.0.113.7",
        None,
        T0,
    )
    [line] = [r for r in caplog.records if r.name == "verification.audit"]
    assert line.levelno == logging.WARNING
    assert line.getMessage() == f'event=rate_limited phone="{MASKED}" client_ip=203.0.113.7 limit=3/m/ip'
    assert PHONE not in caplog.text


def test_events_keep_the_region_and_range_the_dashboard_groups_by():
    french = audit.record(Kind.SENT, PHONE, now=T0)
    american = audit.record(Kind.SENT, "+14155552671", now=T0)
    worldwide = audit.record(Kind.SENT, "+80012345678", now=T0)
    nobody = audit.record(Kind.RATE_LIMITED, None, now=T0)
    assert [(e.region, e.number_range) for e in (french, american, worldwide, nobody)] == [
        ("FR", "+33 6123"),
        ("US", "+1 4155"),
        ("", "+800 1234"),
        ("", ""),
    ]


def test_record_accepts_a_record_no_number_and_junk_addresses():
    record = PhoneVerification.objects.create(phone=PHONE)
    assert audit.record(Kind.UNLOCKED, record, user=AnonymousUser(), now=T0).phone == PHONE
    # An IP-only limit has no number; a unix-socket peer has no address.
    event = audit.record("rate_limited", None, client_ip="", now=T0)
    assert event.phone == "" and event.client_ip is None
    assert audit.record(Kind.SENT, PHONE, client_ip="not-an-ip", now=T0).client_ip is None
    assert VerificationEvent.objects.get(kind="unlocked").user is None


def test_record_refuses_an_unknown_kind():
    with pytest.raises(ValueError):
        audit.record("guessed", PHONE, now=T0)
    assert not VerificationEvent.objects.exists()


def test_a_whole_flow_leaves_one_event_per_step(sms_outbox):
    services.send_code(PHONE, now=T0, client_ip="198.51.100.1")
    code = code_in(sms_outbox[-1])
    services.check_code(PHONE, wrong_code(code), now=at(1), client_ip="198.51.100.2")
    services.check_code(PHONE, code, now=at(2), client_ip="198.51.100.3")
    events = list(VerificationEvent.objects.order_by("id"))
    assert [(e.kind, e.client_ip, e.created_at) for e in events] == [
        ("sent", "198.51.100.1", T0),
        ("wrong_code", "198.51.100.2", at(1)),
        ("verified", "198.51.100.3", at(2)),
    ]
    assert {e.phone for e in events} == {PHONE}


def test_third_wrong_code_is_a_wrong_code_and_a_lock(sms_outbox):
    services.send_code(PHONE, now=T0)
    bad = wrong_code(code_in(sms_outbox[-1]))
    for second in (1, 2, 3):
        services.check_code(PHONE, bad, now=at(second))
    assert kinds() == ["sent", "wrong_code", "wrong_code", "wrong_code", "locked"]
    # Guesses at a locked number change nothing, so they record nothing.
    services.check_code(PHONE, bad, now=at(4))
    assert len(kinds()) == 5


def test_failed_send_is_recorded_with_the_cooldown_given_back(sms_down, caplog):
    sms_down()
    assert services.send_code(PHONE, now=T0, client_ip="198.51.100.9").outcome is services.SendOutcome.FAILED
    assert PhoneVerification.objects.get(phone=PHONE).next_send_at is None
    event = VerificationEvent.objects.get()
    assert (event.kind, event.client_ip) == ("send_failed", "198.51.100.9")
    assert "event=send_failed" in caplog.text and "reason=" in caplog.text


def test_unlock_records_who_unlocked(admin_user, sms_outbox):
    PhoneVerification.objects.create(phone=PHONE, failed_attempts=3, locked_until=at(600))
    services.unlock(PhoneVerification.objects.all(), now=T0, user=admin_user, client_ip="192.0.2.4")
    event = VerificationEvent.objects.get()
    assert (event.kind, event.user, event.client_ip) == ("unlocked", admin_user, "192.0.2.4")


def test_event_rolls_back_with_the_change_it_records(sms_outbox):
    services.send_code(PHONE, now=T0)
    code = code_in(sms_outbox[-1])
    with pytest.raises(RuntimeError), transaction.atomic():
        services.check_code(PHONE, code, now=at(1))
        raise RuntimeError("the request failed after the check")
    assert kinds() == ["sent"]
    assert PhoneVerification.objects.get(phone=PHONE).verified_at is None


def test_views_record_the_client_address(client, frozen, sms_outbox):
    client.post("/", {"phone": PHONE}, REMOTE_ADDR="198.51.100.20")
    client.post("/verify/", {"code": wrong_code(code_in(sms_outbox[-1]))}, REMOTE_ADDR="198.51.100.21")
    assert list(VerificationEvent.objects.order_by("id").values_list("kind", "client_ip")) == [
        ("sent", "198.51.100.20"),
        ("wrong_code", "198.51.100.21"),
    ]

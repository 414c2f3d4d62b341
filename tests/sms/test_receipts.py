"""Recording delivery receipts: statuses only move forward, even when receipts race."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests.helpers import PHONE, T0, at, in_parallel
from verification.models import PhoneVerification, SentMessage
from verification.sms.receipts import ReceiptOutcome, current_code_undelivered, record_receipt

SID = "SM" + "a" * 32


def logged(status: str = "queued", sent_at=T0, sid: str = SID) -> SentMessage:
    """A number whose latest code went out at `sent_at` in message `sid`, its cooldown running."""
    record, _ = PhoneVerification.objects.update_or_create(
        phone=PHONE, defaults={"last_sent_at": sent_at, "next_send_at": sent_at + timedelta(seconds=120)}
    )
    return SentMessage.objects.create(verification=record, sid=sid, status=status, sent_at=sent_at)


@pytest.mark.django_db
def test_receipt_outcomes():
    logged()
    assert record_receipt(SID, "sent", now=at(1)) is ReceiptOutcome.RECORDED
    assert record_receipt(SID, "sent", now=at(2)) is ReceiptOutcome.STALE
    assert record_receipt(SID, "queued", now=at(3)) is ReceiptOutcome.STALE
    assert record_receipt("SM" + "b" * 32, "delivered", now=at(4)) is ReceiptOutcome.IGNORED
    assert record_receipt(SID, "canceled", now=at(5)) is ReceiptOutcome.IGNORED
    message = SentMessage.objects.get()
    assert (message.status, message.status_at) == ("sent", at(1))


@pytest.mark.django_db
def test_receipts_move_on_from_an_untracked_first_status():
    logged(status="scheduled")
    assert record_receipt(SID, "queued", now=at(1)) is ReceiptOutcome.RECORDED
    assert SentMessage.objects.get().status == "queued"


@pytest.mark.django_db
def test_a_final_status_is_never_replaced():
    logged()
    record_receipt(SID, "failed", "30008", now=at(1))
    assert record_receipt(SID, "delivered", now=at(2)) is ReceiptOutcome.STALE
    message = SentMessage.objects.get()
    assert (message.status, message.error_code, message.status_at) == ("failed", "30008", at(1))


@pytest.mark.django_db
def test_failed_current_code_lifts_the_cooldown_and_is_reported():
    logged()
    record = PhoneVerification.objects.get()
    assert not current_code_undelivered(record)
    record_receipt(SID, "undelivered", "30003", now=at(10))
    record.refresh_from_db()
    assert record.next_send_at == at(10) and not record.in_cooldown(at(10))
    assert current_code_undelivered(record)


@pytest.mark.django_db
def test_failure_does_not_lift_the_cooldown_of_a_send_still_in_flight():
    logged()
    # A resend claimed at T0+120 (cooldown to T0+240) whose SMS is not stored yet.
    PhoneVerification.objects.update(next_send_at=at(240))
    record_receipt(SID, "failed", now=at(121))
    assert PhoneVerification.objects.get().next_send_at == at(240)


@pytest.mark.django_db(transaction=True)
def test_racing_receipts_end_on_the_final_status():
    statuses = ["queued", "sending", "sent", "delivered"] * 3
    for round_ in range(3):
        sid = f"SM{round_:032x}"
        logged(sid=sid, sent_at=at(round_))
        shuffled = random.sample(statuses, len(statuses))
        now = at(round_ + 1)

        def receive(i, sid=sid, order=shuffled, now=now):
            return record_receipt(sid, order[i], now=now)

        outcomes = in_parallel(len(shuffled), receive)
        assert SentMessage.objects.get(sid=sid).status == "delivered"
        assert outcomes.count(ReceiptOutcome.RECORDED) <= 4

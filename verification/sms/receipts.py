"""Delivery receipts: record what the provider says became of each message or call, never letting a status go back.

A call's statuses (completed, busy, no-answer, failed, canceled) and WhatsApp's "read" are told in the
message log's words first (`call_status`, `normalise`): a call that rang out was not delivered, an answered one was.

Receipts may arrive twice, late or out of order, and two may race. Each one is applied
with a single conditional UPDATE (only over a status that comes earlier), so the row
lock of that UPDATE, not the order of arrival, decides, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery

from verification import metrics, tracing
from verification.models import PhoneVerification, SentMessage
from verification.phone_numbers import mask

logger = logging.getLogger(__name__)

Status = SentMessage.Status

#: How far along its way a status is; a receipt only ever moves a message forward.
PROGRESS = {
    Status.ACCEPTED: 0,
    Status.QUEUED: 1,
    Status.SENDING: 2,
    Status.SENT: 3,
    # Final: nothing comes after them, not even another final status.
    Status.DELIVERED: 4,
    Status.UNDELIVERED: 4,
    Status.FAILED: 4,
}
NOT_DELIVERED = frozenset({Status.UNDELIVERED, Status.FAILED})
#: A call's statuses -> the message log's: a call that rang out or was never answered was not delivered.
CALL_STATUSES = {
    "queued": Status.QUEUED,
    "initiated": Status.QUEUED,
    "ringing": Status.SENDING,
    "in-progress": Status.SENT,
    "answered": Status.SENT,
    "completed": Status.DELIVERED,
    "busy": Status.UNDELIVERED,
    "no-answer": Status.UNDELIVERED,
    "canceled": Status.UNDELIVERED,
    "failed": Status.FAILED,
}
#: Message statuses told in other words: WhatsApp says "read" after "delivered".
MESSAGE_SYNONYMS = {"read": Status.DELIVERED}


def normalise(status: str) -> str:
    """Return the message log's word for a message's status (WhatsApp's "read" included)."""
    return MESSAGE_SYNONYMS.get(status, status)


def call_status(status: str) -> str:
    """Return the message log's word for a call's status; an unknown one is passed on (and ignored)."""
    return CALL_STATUSES.get(status, status)


class ReceiptOutcome(enum.Enum):
    RECORDED = "recorded"
    #: The message already has this status or a later one (a duplicate or a late receipt).
    STALE = "stale"
    #: No message with this sid, or a status this site does not track.
    IGNORED = "ignored"


def record_receipt(sid: str, status: str, error_code: str = "", *, now: datetime) -> ReceiptOutcome:
    """Record a delivery receipt; an undelivered or failed current code lifts the resend cooldown."""
    with tracing.span("otp.sms.receipt", status=status) as span:
        outcome = _record_receipt(sid, status, error_code, now)
        span.set(outcome=outcome)
    return outcome


def _record_receipt(sid: str, status: str, error_code: str, now: datetime) -> ReceiptOutcome:
    status = normalise(status)
    if status not in PROGRESS:
        return ReceiptOutcome.IGNORED
    # Excluding what is as far along or further (rather than listing what comes before) also
    # lets receipts move on from a first status this site does not track, such as "scheduled".
    as_far = [known for known, step in PROGRESS.items() if step >= PROGRESS[status]]
    with transaction.atomic():
        updated = (
            SentMessage.objects.filter(sid=sid)
            .exclude(status__in=as_far)
            .update(status=status, error_code=error_code[:16], status_at=now)
        )
        if not updated:
            return ReceiptOutcome.STALE if SentMessage.objects.filter(sid=sid).exists() else ReceiptOutcome.IGNORED
        message = SentMessage.objects.select_related("verification").get(sid=sid)
        if PROGRESS[status] == PROGRESS[Status.DELIVERED]:
            metrics.count(metrics.RECEIPTS, via=message.via, status=status)
        # The person never got that code, so they may ask for another at once.
        if status in NOT_DELIVERED and PhoneVerification.objects.reopen_resend(
            message.verification_id, message.sent_at, now
        ):
            logger.info("resend reopened to=%s sid=%s", mask(message.verification.phone), sid)
    logger.info(
        "sms receipt to=%s sid=%s via=%s status=%s error_code=%s",
        mask(message.verification.phone),
        sid,
        message.via,
        status,
        error_code or "-",
    )
    return ReceiptOutcome.RECORDED


def with_latest_sms(rows: QuerySet[PhoneVerification]) -> QuerySet[PhoneVerification]:
    """Return `rows` each carrying its latest SMS's time and status, so current_code_undelivered needs no query."""
    latest = SentMessage.objects.filter(verification=OuterRef("pk")).order_by("-sent_at", "-id")
    return rows.annotate(
        latest_sms_sent_at=Subquery(latest.values("sent_at")[:1]),
        latest_sms_status=Subquery(latest.values("status")[:1]),
        latest_sms_via=Subquery(latest.values("via")[:1]),
    )


def current_code_undelivered(record: PhoneVerification | None) -> bool:
    """Return whether the provider reported the SMS carrying the number's latest code as not delivered."""
    if record is None or record.last_sent_at is None:
        return False
    if hasattr(record, "latest_sms_status"):
        latest = (record.latest_sms_sent_at, record.latest_sms_status)
    else:
        latest = record.sent_messages.order_by("-sent_at", "-id").values_list("sent_at", "status").first()
    return latest is not None and latest[0] == record.last_sent_at and latest[1] in NOT_DELIVERED

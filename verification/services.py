"""The verification flow: send a code, check a code, unlock a number.

`send_code` reads claim, send, store: the send policy (verification.limits) claims the send in one
transaction on the number's row, the SMS goes out with no lock held (a slow provider never blocks
anyone), and the new code is stored in a second short transaction. Checking a code is one
transaction on the row (select_for_update() on PostgreSQL, an IMMEDIATE transaction on SQLite).
Every function takes `now`; only views, admin actions and commands read the clock.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.crypto import constant_time_compare
from django.utils.translation import ngettext

from verification import audit
from verification.conf import app_settings
from verification.limits import pumping
from verification.limits.policy import Claim, claim_send
from verification.limits.refusal import Reason, Refusal
from verification.models import PhoneVerification, SentMessage, VerificationEvent, VerifiedPhone
from verification.phone_numbers import mask
from verification.sms import SmsDeliveryError, SmsMessage, SmsProblem, send_sms
from verification.tokens import default_code_generator

logger = logging.getLogger(__name__)

Channel = VerificationEvent.Channel


class SendOutcome(enum.Enum):
    SENT = "sent"
    COOLDOWN = "cooldown"
    LOCKED = "locked"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    #: The number may not receive codes (country or number type); `error` says why.
    REFUSED = "refused"


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    #: For SENT, COOLDOWN and RATE_LIMITED: when another send is allowed; for LOCKED: when the lock ends.
    retry_at: datetime | None = None
    #: For FAILED: why, in terms the person can act on.
    problem: SmsProblem | None = None
    #: For RATE_LIMITED: the limit that refused ("number", "ip", "session", "budget" or "pumping").
    limit: str = ""
    #: For SENT: the id of this send, which the browser that asked for it must present with the code.
    challenge: str = ""
    #: For SENT: when the new code stops working.
    expires_at: datetime | None = None
    #: For REFUSED: the error to show on the phone field.
    error: ValidationError | None = None


class CheckOutcome(enum.Enum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    EXPIRED = "expired"
    LOCKED = "locked"
    #: The code was asked for by another browser: start again, no failure counted.
    WRONG_SESSION = "wrong_session"


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    attempts_left: int = 0
    locked_until: datetime | None = None


def sms_body(code: str) -> str:
    """Return the text message that carries the code: OTP_SMS_TEMPLATE, or the built-in translated text."""
    # Whole minutes, rounded down: the message never promises more time than the code has.
    minutes = max(1, app_settings.ttl_seconds // 60)
    template = app_settings.sms_template or ngettext(
        "{app}: your code is {code}. It expires in {minutes} minute. Do not share it.",
        "{app}: your code is {code}. It expires in {minutes} minutes. Do not share it.",
        minutes,
    )
    body = template.format(code=code, minutes=minutes, app=app_settings.app_name)
    if app_settings.webotp_domain:
        # WebOTP: browsers offer the code only to this origin, and only from the message's last line.
        body += f"\n\n@{app_settings.webotp_domain} #{code}"
    return body


def send_code(
    phone: str,
    now: datetime,
    *,
    client_ip: str | None = None,
    session_key: str | None = None,
    channel: Channel = Channel.WEB,
) -> SendResult:
    """Send a new code to `phone` unless the send policy refuses (destination, lock, cooldown, brake, limits).

    `session_key` is whatever identifies the client for the per-session limit (a browser's session, an API
    client's challenge); `channel` marks the audit events with where the request came in.
    """
    claim = claim_send(phone, now, client_ip=client_ip, session_key=session_key)
    if isinstance(claim, Refusal):
        return _refused(phone, claim, client_ip, channel, now)
    code = default_code_generator.make_code()
    message = None
    failure = {"problem": SmsProblem.UNAVAILABLE, "reason": "unexpected error"}
    try:
        message = send_sms(phone, sms_body(code))
    except SmsDeliveryError as exc:
        failure = {"problem": exc.problem, "provider_code": exc.provider_code, "reason": str(exc)}
    finally:
        if message is None:
            _send_failed(phone, claim, client_ip, channel, now, failure)
    if message is None:
        return SendResult(SendOutcome.FAILED, problem=failure["problem"])
    return _store(phone, code, message, claim, client_ip, channel, now)


def _refused(phone: str, refusal: Refusal, client_ip: str | None, channel: Channel, now: datetime) -> SendResult:
    """Turn the policy's refusal into a result; a refusal by the brake or a limit is audited."""
    if refusal.reason is Reason.DESTINATION:
        return SendResult(SendOutcome.REFUSED, error=refusal.error)
    if refusal.reason is Reason.LOCKED:
        return SendResult(SendOutcome.LOCKED, refusal.retry_at)
    if refusal.reason is Reason.COOLDOWN:
        return SendResult(SendOutcome.COOLDOWN, refusal.retry_at)
    audit.record(
        audit.Kind.RATE_LIMITED,
        phone,
        client_ip=client_ip,
        channel=channel,
        now=now,
        limit=refusal.limit,
        retry_at=refusal.retry_at,
    )
    return SendResult(SendOutcome.RATE_LIMITED, refusal.retry_at, limit=refusal.limit)


def _send_failed(
    phone: str, claim: Claim, client_ip: str | None, channel: Channel, now: datetime, failure: dict
) -> None:
    """Record a send that never left, and give its cooldown back so the person may ask again at once."""
    with transaction.atomic():
        PhoneVerification.objects.give_back_cooldown(phone, claim.cooldown_ends)
        audit.record(audit.Kind.SEND_FAILED, phone, client_ip=client_ip, channel=channel, now=now, **failure)


def _store(
    phone: str, code: str, message: SmsMessage, claim: Claim, client_ip: str | None, channel: Channel, now: datetime
) -> SendResult:
    """Log the SMS and make its code the number's live code, unless the number got locked meanwhile."""
    with transaction.atomic():
        record = PhoneVerification.objects.select_for_update().get(phone=phone)
        # Logged even if the number got locked meanwhile: the SMS went out all the same.
        SentMessage.objects.create(
            verification=record,
            sid=message.sid or None,
            status=message.status or SentMessage.Status.SENT,
            sent_at=now,
        )
        if record.is_locked(now):
            # Locked by wrong guesses while the SMS was in flight: the new code must not go live.
            return SendResult(SendOutcome.LOCKED, record.locked_until)
        record.set_code(code, now, claim.cooldown_ends)
        record.save()
        audit.record(
            audit.Kind.SENT, record, client_ip=client_ip, channel=channel, now=now, expires_at=record.code_expires_at
        )
    return SendResult(
        SendOutcome.SENT, claim.cooldown_ends, challenge=record.challenge, expires_at=record.code_expires_at
    )


def check_code(
    phone: str,
    code: str,
    now: datetime,
    *,
    client_ip: str | None = None,
    challenge: str | None = None,
    user: AbstractBaseUser | None = None,
    channel: Channel = Channel.WEB,
) -> CheckResult:
    """Check a typed code against the live code of `phone`, counting a wrong one toward the lock.

    With `challenge` (the id the client got when it asked for the code), a code typed in a browser or
    sent by an API client that did not ask for the current code is refused without counting a failure.
    A match made by a logged-in `user` is stored for that user (VerifiedPhone) in the same transaction.
    """
    with transaction.atomic():
        record = PhoneVerification.objects.select_for_update().filter(phone=phone).first()
        if record is None:
            return CheckResult(CheckOutcome.EXPIRED)
        lock_ended = record.end_expired_lock(now)
        if record.is_locked(now):
            return CheckResult(CheckOutcome.LOCKED, locked_until=record.locked_until)
        if not record.has_live_code(now):
            if lock_ended:
                record.save()
            return CheckResult(CheckOutcome.EXPIRED)
        if challenge is not None and not constant_time_compare(challenge, record.challenge):
            if lock_ended:
                record.save()
            logger.info("code from another browser refused phone=%s", mask(phone))
            return CheckResult(CheckOutcome.WRONG_SESSION)

        if record.code_matches(code):
            record.mark_verified(now)
            record.save()
            if user is not None:
                VerifiedPhone.objects.record(user, phone, now)
            audit.record(audit.Kind.VERIFIED, record, client_ip=client_ip, channel=channel, now=now)
            pumping.record_verified(phone, now)
            return CheckResult(CheckOutcome.VERIFIED)

        locked = record.register_failure(now)
        record.save()
        attempt = f"{record.failed_attempts}/{app_settings.max_attempts}"
        audit.record(audit.Kind.WRONG_CODE, record, client_ip=client_ip, channel=channel, now=now, attempt=attempt)
        if locked:
            audit.record(
                audit.Kind.LOCKED, record, client_ip=client_ip, channel=channel, now=now, until=record.locked_until
            )
            return CheckResult(CheckOutcome.LOCKED, locked_until=record.locked_until)
        return CheckResult(CheckOutcome.MISMATCH, attempts_left=record.attempts_left())


def unlock(
    records: QuerySet[PhoneVerification],
    now: datetime,
    *,
    user: AbstractBaseUser | None = None,
    client_ip: str | None = None,
) -> list[PhoneVerification]:
    """Lift the lock of every locked number in `records`, reset their failures, and return those unlocked.

    `user` is the staff member who asked (None from the command line); each unlock is an audit event.
    """
    unlocked = []
    with transaction.atomic():
        for record in records.select_for_update().filter(locked_until__gt=now):
            record.unlock()
            record.save()
            unlocked.append(record)
            audit.record(audit.Kind.UNLOCKED, record, client_ip=client_ip, user=user, now=now)
    return unlocked

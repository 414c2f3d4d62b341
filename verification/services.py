"""The verification rules: send a code, check a code, unlock a number.

Every step that races (claiming a send, counting a wrong guess, consuming a code)
runs in one transaction on the number's row: select_for_update() on PostgreSQL,
an IMMEDIATE transaction on SQLite. The SMS itself is sent outside any
transaction so a slow provider never holds a lock.
"""

from __future__ import annotations

import enum
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import ngettext

from verification import audit, pumping, send_limits
from verification.models import PhoneVerification, SentMessage
from verification.phone_numbers import mask
from verification.sms import SmsDeliveryError, SmsProblem, send_sms
from verification.tokens import default_code_generator

logger = logging.getLogger(__name__)


class SendOutcome(enum.Enum):
    SENT = "sent"
    COOLDOWN = "cooldown"
    LOCKED = "locked"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"


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
    minutes = max(1, settings.OTP_TTL_SECONDS // 60)
    template = settings.OTP_SMS_TEMPLATE or ngettext(
        "{app}: your code is {code}. It expires in {minutes} minute. Do not share it.",
        "{app}: your code is {code}. It expires in {minutes} minutes. Do not share it.",
        minutes,
    )
    body = template.format(code=code, minutes=minutes, app=settings.OTP_APP_NAME)
    if settings.OTP_WEBOTP_DOMAIN:
        # WebOTP: browsers offer the code only to this origin, and only from the message's last line.
        body += f"\n\n@{settings.OTP_WEBOTP_DOMAIN} #{code}"
    return body


def send_code(
    phone: str, now: datetime | None = None, *, client_ip: str | None = None, session_key: str | None = None
) -> SendResult:
    """Send a new code to `phone` unless it is locked, in its resend cooldown, or a send limit refuses."""
    now = now or timezone.now()
    claim = _claim_send(phone, now, client_ip, session_key)
    if not isinstance(claim, datetime):
        return claim

    code = default_code_generator.make_code()
    message = None
    failure = {"problem": SmsProblem.UNAVAILABLE, "reason": "unexpected error"}
    try:
        message = send_sms(phone, sms_body(code))
    except SmsDeliveryError as exc:
        failure = {"problem": exc.problem, "provider_code": exc.provider_code, "reason": str(exc)}
    finally:
        if message is None:
            with transaction.atomic():
                # Give the cooldown back: the person never got a code, so they may ask again at once.
                PhoneVerification.objects.filter(phone=phone, next_send_at=claim).update(next_send_at=None)
                audit.record(audit.Kind.SEND_FAILED, phone, client_ip=client_ip, now=now, **failure)
    if message is None:
        return SendResult(SendOutcome.FAILED, problem=failure["problem"])

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
        record.code_hash = default_code_generator.make_hash(phone, code)
        record.code_expires_at = now + timedelta(seconds=settings.OTP_TTL_SECONDS)
        record.next_send_at = claim
        record.last_sent_at = now
        record.send_count += 1
        record.challenge = secrets.token_hex(16)
        record.save()
        audit.record(audit.Kind.SENT, record, client_ip=client_ip, now=now, expires_at=record.code_expires_at)
    return SendResult(SendOutcome.SENT, claim, challenge=record.challenge)


def _claim_send(phone: str, now: datetime, client_ip: str | None, session_key: str | None) -> datetime | SendResult:
    """Reserve the right to send to `phone` by starting its cooldown; return the cooldown's end or why not.

    Every limit is checked before anything is counted or sent; a send they refuse changes nothing.
    """
    with transaction.atomic():
        record, _ = PhoneVerification.objects.select_for_update().get_or_create(phone=phone)
        lock_ended = record.end_expired_lock(now)
        if record.is_locked(now):
            return SendResult(SendOutcome.LOCKED, record.locked_until)
        if record.in_cooldown(now):
            if lock_ended:
                record.save()
            return SendResult(SendOutcome.COOLDOWN, record.next_send_at)
        claim = _claim_limits(phone, now, client_ip, session_key)
        if claim.refusal:
            if lock_ended:
                record.save()
            return _rate_limited(phone, claim.refusal, client_ip, now)
        for filled in claim.filled:
            if filled.scope == "budget":
                # Logged by the one send that spends the budget, so once per exhaustion.
                logger.error("sms budget spent: no code is sent to anyone until %s", filled.retry_at.isoformat())
        pumping.record_sent(phone, now)
        record.next_send_at = now + timedelta(seconds=settings.OTP_RESEND_COOLDOWN_SECONDS)
        record.save()
        return record.next_send_at


def _claim_limits(phone: str, now: datetime, client_ip: str | None, session_key: str | None) -> send_limits.Claim:
    """Return the pumping brake's or a send limit's refusal, or count this send against every limit."""
    pause_ends = pumping.paused_until(phone, now)
    if pause_ends:
        return send_limits.Claim(refusal=send_limits.Refusal("pumping", pause_ends))
    return send_limits.claim(send_limits.limits_for_send(phone, client_ip, session_key), now)


def _rate_limited(phone: str, refusal: send_limits.Refusal, client_ip: str | None, now: datetime) -> SendResult:
    """Refuse a send because a limit says no: the one place every such refusal passes through."""
    audit.record(
        audit.Kind.RATE_LIMITED, phone, client_ip=client_ip, now=now, limit=refusal.scope, retry_at=refusal.retry_at
    )
    return SendResult(SendOutcome.RATE_LIMITED, refusal.retry_at, limit=refusal.scope)


def check_code(
    phone: str, code: str, now: datetime | None = None, *, client_ip: str | None = None, challenge: str | None = None
) -> CheckResult:
    """Check a typed code against the live code of `phone`, counting a wrong one toward the lock.

    With `challenge` (the id the browser got when it asked for the code), a code typed in a browser
    that did not ask for the current code is refused without counting a failure.
    """
    now = now or timezone.now()
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

        if default_code_generator.check_code(phone, code, record.code_hash):
            record.kill_code()
            record.failed_attempts = 0
            record.verified_at = now
            record.save()
            audit.record(audit.Kind.VERIFIED, record, client_ip=client_ip, now=now)
            pumping.record_verified(phone, now)
            return CheckResult(CheckOutcome.VERIFIED)

        record.failed_attempts += 1
        max_attempts = settings.OTP_MAX_ATTEMPTS
        attempt = f"{record.failed_attempts}/{max_attempts}"
        audit.record(audit.Kind.WRONG_CODE, record, client_ip=client_ip, now=now, attempt=attempt)
        if record.failed_attempts >= max_attempts:
            record.locked_until = now + timedelta(seconds=settings.OTP_LOCKOUT_SECONDS)
            record.kill_code()
            record.save()
            audit.record(audit.Kind.LOCKED, record, client_ip=client_ip, now=now, until=record.locked_until)
            return CheckResult(CheckOutcome.LOCKED, locked_until=record.locked_until)
        record.save()
        return CheckResult(CheckOutcome.MISMATCH, attempts_left=max_attempts - record.failed_attempts)


def unlock(
    records: QuerySet[PhoneVerification],
    now: datetime | None = None,
    *,
    user: AbstractBaseUser | None = None,
    client_ip: str | None = None,
) -> list[PhoneVerification]:
    """Lift the lock of every locked number in `records`, reset their failures, and return those unlocked.

    `user` is the staff member who asked (None from the command line); each unlock is an audit event.
    """
    now = now or timezone.now()
    unlocked = []
    with transaction.atomic():
        for record in records.select_for_update().filter(locked_until__gt=now):
            record.locked_until = None
            record.failed_attempts = 0
            record.save()
            unlocked.append(record)
            audit.record(audit.Kind.UNLOCKED, record, client_ip=client_ip, user=user, now=now)
    return unlocked

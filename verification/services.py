"""The verification flow: send a code, check a code, unlock a number.

`send_code` reads claim, send, store: the send policy (verification.limits) claims the send in one
transaction on the number's row, the SMS goes out with no lock held (a slow provider never blocks
anyone), and the new code is stored in a second short transaction. Checking a code is one
transaction on the row (select_for_update() on PostgreSQL, an IMMEDIATE transaction on SQLite).
Every function takes `now`; only views, admin actions and commands read the clock.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from verification import audit, metrics, test_numbers, tracing
from verification.adapter import get_adapter
from verification.auth import numbers
from verification.conf import app_settings
from verification.limits import pumping
from verification.limits.destinations import check_destination
from verification.limits.policy import Claim, claim_send, give_back
from verification.limits.refusal import Reason, Refusal
from verification.models import Flow, PhoneVerification, SentMessage, VerificationEvent, VerifiedPhone
from verification.outcomes import CheckOutcome, SendOutcome
from verification.phone_numbers import mask, range_of
from verification.sms import CheckVerdict, SmsMessage, SmsProblem, chain, receipts, twiml
from verification.tokens import default_code_generator
from verification.vias import Via

logger = logging.getLogger(__name__)

Channel = VerificationEvent.Channel


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
    #: How the code went (or would have gone): sms, call or whatsapp.
    via: str = Via.SMS


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    attempts_left: int = 0
    locked_until: datetime | None = None
    #: The number's row as the check left it (None when the number is unknown), for the page that follows.
    record: PhoneVerification | None = None
    #: For VERIFIED by a logged-in user: the number signs in another account, so it did not become theirs.
    number_taken: bool = False


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


def relayed_sms_body(code: str) -> str:
    """Return the text message that carries a code another library made (it knows how long the code lasts)."""
    body = gettext("{app}: your code is {code}. Do not share it.").format(code=code, app=app_settings.app_name)
    if app_settings.webotp_domain:
        body += f"\n\n@{app_settings.webotp_domain} #{code}"
    return body


def message_body(code: str, via: str, language: str) -> str:
    """Return the words that carry the code by `via`: the text message, or what a voice call says."""
    if via == Via.CALL:
        return twiml.call_script(code, app_settings.app_name, language)
    return sms_body(code)


def first_via() -> str:
    """Return the way a code goes when nobody chose one: the first of OTP_DELIVERY_METHODS."""
    return app_settings.delivery_methods[0]


def vias_for(phone: str) -> list[str]:
    """Return the ways a code may go to `phone`, in OTP_DELIVERY_METHODS' order (enabled, and allowed for it)."""
    allowed = []
    for via in app_settings.delivery_methods:
        try:
            check_destination(phone, via)
        except ValidationError:
            continue
        allowed.append(via)
    return allowed


def _traced(name: str):
    """Run a flow function inside a span `name` with the number's region and range, its channel and its outcome."""

    def decorate(function):
        @functools.wraps(function)
        def traced(phone: str, *args, **kwargs):
            if not tracing.is_on():
                return function(phone, *args, **kwargs)
            with tracing.span(name, channel=kwargs.get("channel", Channel.WEB), **_where(phone)) as span:
                result = function(phone, *args, **kwargs)
                span.set(outcome=result.outcome)
                return result

        return traced

    return decorate


def _where(phone: str) -> dict[str, str]:
    """Return what a span may say about a number: its region and range, never the number."""
    try:
        number_range = range_of(phone)
    except Exception:  # noqa: BLE001 - an unparsable number is simply not described
        return {}
    return {"region": number_range.region, "number_range": str(number_range)}


@_traced("otp.send")
def send_code(
    phone: str,
    now: datetime,
    *,
    client_ip: str | None = None,
    session_key: str | None = None,
    channel: Channel = Channel.WEB,
    flow: Flow = Flow.VERIFY,
    deliver: bool = True,
    via: str | None = None,
    language: str | None = None,
    automatic: bool = False,
) -> SendResult:
    """Send a new code to `phone` by `via` unless the send policy refuses (destination, lock, cooldown, brake, limits).

    `session_key` is whatever identifies the client for the per-session limit (a browser's session, an API
    client's challenge); `channel` marks the audit events with where the request came in, `flow` why the code
    is sent (it works only in that flow). `via` is how the code travels (the first of OTP_DELIVERY_METHODS by
    default), `language` the one a call speaks (the active one by default); `automatic` marks a send the site
    made by itself (OTP_AUTO_FALLBACK). Every way is one claim of the same limits. A send the provider refuses or
    fails gives back everything its claim took. The message goes out through the failover chain (`sms.chain`):
    SMS_BACKEND, then SMS_FALLBACK_BACKENDS (or the number's SMS_ROUTES), skipping a backend that cannot deliver
    `via`, one claim for all of them. While every provider for the number and way is down, most sends fail at
    once without calling any (`limits.outage`), writing nothing.

    With `deliver` false (a sign-in for a number that signs in no account) everything happens as for a real
    send, the one claim included, except that the code nobody will receive is never handed to the provider:
    the caller cannot be told apart from a real sign-in by what it is answered.

    A test number (verification.test_numbers) takes its own path before any of this: no SMS, no claim.
    """
    flow = Flow(flow)
    via = via or first_via()
    language = translation.get_language() or "" if language is None else language
    fixed = test_numbers.fixed_code(phone, now)
    if fixed is not None:
        return _set_fixed_code(phone, fixed, client_ip, channel, flow, now, via, language)
    if chain.all_down(phone, now, via):
        # Every provider for this number and way is down and none is due for its probe: fail at once, claiming
        # nothing.
        metrics.count(metrics.SMS_FAILED, problem=SmsProblem.UNAVAILABLE.value, provider=NO_PROVIDER, via=via)
        return SendResult(SendOutcome.FAILED, problem=SmsProblem.UNAVAILABLE, via=via)
    with tracing.span("otp.send.claim") as span:
        claim = claim_send(phone, now, client_ip=client_ip, session_key=session_key, via=via)
        span.set(outcome=claim.reason if isinstance(claim, Refusal) else "claimed")
    if isinstance(claim, Refusal):
        return _refused(phone, claim, client_ip, channel, flow, now, via)
    code = default_code_generator.make_code()
    sending = _Sending(via, language, automatic)
    if not deliver:
        return _store(phone, code, None, claim, client_ip, channel, flow, now, sending)
    delivery = None
    failure = {"problem": SmsProblem.UNAVAILABLE, "reason": "unexpected error"}
    # One claim for the whole chain of providers: given back only if every one of them failed.
    try:
        message = SmsMessage(to=phone, body=message_body(code, via, language), via=via, code=code, language=language)
        delivery = chain.deliver(message, now)
    finally:
        if delivery is not None:
            _count_attempts(delivery)
        if delivery is None or not delivery.sent:
            if delivery is not None:
                error = delivery.error
                failure = {"problem": error.problem, "provider_code": error.provider_code, "reason": str(error)}
                failure["provider"] = _last_called(delivery)
            _send_failed(phone, claim, client_ip, channel, flow, now, {**failure, "via": via, "automatic": automatic})
    if not delivery.sent:
        return SendResult(SendOutcome.FAILED, problem=failure["problem"], via=via)
    with tracing.span("otp.send.store"):
        return _store(phone, code, delivery, claim, client_ip, channel, flow, now, sending)


@dataclass(frozen=True)
class _Sending:
    """How a code goes, for _store: the way, the language it speaks, whether the site sent it by itself."""

    via: str
    language: str
    automatic: bool


#: Start of the code_hash of a code the provider made and checks (no typed code hashes to it).
PROVIDER_CODE = "provider:"

#: The provider label of a send no provider could be asked to carry (all of them down).
NO_PROVIDER = "none"


def _last_called(delivery: chain.Delivery) -> str:
    """Return the provider a failed send last called, or NO_PROVIDER."""
    called = [attempt.provider for attempt in delivery.attempts if not attempt.skipped]
    return called[-1] if called else NO_PROVIDER


def _count_attempts(delivery: chain.Delivery) -> None:
    """Observe each provider's answer time, and count each failover, by provider (and way)."""
    via = delivery.message.via
    for attempt in delivery.attempts:
        if not attempt.skipped:
            metrics.PROVIDER_SECONDS.labels(provider=attempt.provider).observe(attempt.seconds)
        if attempt.error is not None and not attempt.skipped and attempt is not delivery.attempts[-1]:
            # A provider that failed and was followed by another: its failure is counted here, the send's
            # own outcome (sent, or failed by the last provider) where it is decided.
            metrics.count(metrics.SMS_FAILED, problem=attempt.error.problem.value, provider=attempt.provider, via=via)
    for source, target in delivery.failovers:
        metrics.count(metrics.SMS_FAILOVERS, **{"from": source, "to": target})


@_traced("otp.relay")
def relay_code(
    phone: str,
    body: str,
    now: datetime,
    *,
    client_ip: str | None = None,
    session_key: str | None = None,
    channel: Channel,
    flow: Flow = Flow.VERIFY,
    via: str = "sms",
    code: str = "",
    language: str | None = None,
) -> SendResult:
    """Deliver a code another library made and checks (django-allauth, django-two-factor-auth) in `body`.

    The send is decided and counted exactly as `send_code`'s: one claim (destination, lock, cooldown, pumping
    brake, the per-number, per-IP, per-session and budget limits) for the whole failover chain, the providers
    called with no lock held, everything given back only if every one of them fails. Backends that make their
    own code (Twilio Verify) are skipped: they would deliver theirs, not the library's. Nothing of the code is
    stored: the library that made it checks it, and tells the brake a person typed it through `relay_verified`.
    `channel` names the library, `flow` why the code is sent (for the audit trail: the library checks its own
    codes); `via` is how the code travels, with the same rules as our own codes (OTP_DELIVERY_METHODS, the
    countries calls may go to). A call or a WhatsApp message carries `code` itself, not `body`: a call reads it
    out in `language` (the active one by default), so a way other than "sms" without `code` is refused up front.
    """
    flow = Flow(flow)
    if via != Via.SMS and not code:
        error = ValidationError(_("This site can't deliver codes that way."), code="via_not_available")
        metrics.count(metrics.RELAYED, source=channel, result=SendOutcome.REFUSED.value)
        return SendResult(SendOutcome.REFUSED, error=error, via=via)
    language = translation.get_language() or "" if language is None else language
    if via == Via.CALL:
        body = twiml.call_script(code, app_settings.app_name, language)
    if not chain.backends_for(phone, skip_code_makers=True):
        # Every backend for this number makes its own code (Twilio Verify): it would deliver a code the library
        # does not know. The system checks say so at start-up (verification.E257, W258); nothing is claimed.
        logger.error(
            "no SMS backend can carry a code made by %s phone=%s: each backend for this number makes its own code "
            "(checks_codes); add one that sends the text as written to SMS_FALLBACK_BACKENDS or SMS_ROUTES",
            channel,
            mask(phone),
        )
        metrics.count(metrics.SMS_FAILED, problem=SmsProblem.UNAVAILABLE.value, provider=NO_PROVIDER, via=via)
        metrics.count(metrics.RELAYED, source=channel, result=SendOutcome.FAILED.value)
        return SendResult(SendOutcome.FAILED, problem=SmsProblem.UNAVAILABLE)
    if chain.all_down(phone, now, via, skip_code_makers=True):
        # Every provider that could carry it is down and none is due for its probe: fail at once, claiming nothing.
        metrics.count(metrics.SMS_FAILED, problem=SmsProblem.UNAVAILABLE.value, provider=NO_PROVIDER, via=via)
        metrics.count(metrics.RELAYED, source=channel, result=SendOutcome.FAILED.value)
        return SendResult(SendOutcome.FAILED, problem=SmsProblem.UNAVAILABLE)
    with tracing.span("otp.send.claim") as span:
        claim = claim_send(phone, now, client_ip=client_ip, session_key=session_key, via=via)
        span.set(outcome=claim.reason if isinstance(claim, Refusal) else "claimed")
    if isinstance(claim, Refusal):
        result = _refused(phone, claim, client_ip, channel, flow, now, via)
        metrics.count(metrics.RELAYED, source=channel, result=result.outcome.value)
        return result
    delivery = None
    failure = {"problem": SmsProblem.UNAVAILABLE, "reason": "unexpected error"}
    # One claim for the whole chain of providers: given back only if every one of them failed.
    try:
        message = SmsMessage(to=phone, body=body, via=via, code=code, language=language)
        delivery = chain.deliver(message, now, skip_code_makers=True)
    finally:
        if delivery is not None:
            _count_attempts(delivery)
        if delivery is None or not delivery.sent:
            if delivery is not None:
                error = delivery.error
                failure = {"problem": error.problem, "provider_code": error.provider_code, "reason": str(error)}
                failure["provider"] = _last_called(delivery)
            _send_failed(phone, claim, client_ip, channel, flow, now, {**failure, "via": via})
            metrics.count(metrics.RELAYED, source=channel, result=SendOutcome.FAILED.value)
    if not delivery.sent:
        return SendResult(SendOutcome.FAILED, problem=failure["problem"], via=via)
    rows = PhoneVerification.objects
    with tracing.span("otp.send.store"), transaction.atomic():
        record_id = claim.record_id or rows.filter(phone=phone).values_list("pk", flat=True).get()
        _log_message(record_id, delivery, now, via)
        # No code goes live: the library that made it checks it. The receipts read last_sent_at.
        rows.filter(pk=record_id).update(last_sent_at=now, send_count=F("send_count") + 1, updated_at=now)
        audit.record(
            audit.Kind.SENT,
            phone,
            client_ip=client_ip,
            channel=channel,
            flow=flow,
            now=now,
            provider=delivery.provider,
            via=via,
            relayed=True,
        )
        metrics.count(metrics.SMS_SENT, provider=delivery.provider, via=via)
        metrics.count(metrics.RELAYED, source=channel, result=SendOutcome.SENT.value)
    return SendResult(SendOutcome.SENT, claim.cooldown_ends)


def relay_verified(
    phone: str, now: datetime, *, client_ip: str | None = None, channel: Channel, flow: Flow = Flow.VERIFY
) -> bool:
    """Record that a person typed the right code another library sent to `phone` through `relay_code`.

    The number becomes known, as after a verification on the app's own pages: the pumping brake counts this
    first verification for its range and never stops or counts the number again. As there, the code was used, so
    the resend cooldown ends: a login right after a phone was set up gets its code. Return whether this was
    the number's first verification (False too when the app never sent it a code).
    """
    with transaction.atomic():
        record = PhoneVerification.objects.select_for_update().filter(phone=phone).first()
        if record is None:
            return False
        first = record.verified_at is None
        if first:
            pumping.record_verified(record, now)
        PhoneVerification.objects.filter(pk=record.pk).update(verified_at=now, next_send_at=None, updated_at=now)
        audit.record(
            audit.Kind.VERIFIED, record, client_ip=client_ip, channel=channel, flow=flow, now=now, relayed=True
        )
    return first


def _set_fixed_code(
    phone: str,
    code: str,
    client_ip: str | None,
    channel: Channel,
    flow: Flow,
    now: datetime,
    via: str = Via.SMS,
    language: str = "",
) -> SendResult:
    """Make a test number's fixed code its live code: no SMS, and no limit, brake or budget claimed or counted.

    The code still expires and binds to a new challenge like any code, and a locked number stays locked.
    """
    code_hash = default_code_generator.make_hash(phone, code)
    with transaction.atomic():
        record, _created = PhoneVerification.objects.select_for_update().get_or_create(phone=phone)
        record.end_expired_lock(now)
        if record.is_locked(now):
            return SendResult(SendOutcome.LOCKED, record.locked_until, via=via)
        # No resend cooldown: end-to-end tests may ask again at once.
        record.set_code(code_hash, now, now, flow, via=via, language=language)
        record.save()
        audit.record(
            audit.Kind.SENT,
            record,
            client_ip=client_ip,
            channel=channel,
            flow=flow,
            now=now,
            via=via,
            expires_at=record.code_expires_at,
        )
    return SendResult(SendOutcome.SENT, now, challenge=record.challenge, expires_at=record.code_expires_at, via=via)


def _refused(
    phone: str,
    refusal: Refusal,
    client_ip: str | None,
    channel: Channel,
    flow: Flow,
    now: datetime,
    via: str = Via.SMS,
) -> SendResult:
    """Turn the policy's refusal into a result; a refusal by the brake or a limit is audited."""
    if refusal.reason is Reason.DESTINATION:
        return SendResult(SendOutcome.REFUSED, error=refusal.error, via=via)
    if refusal.reason is Reason.LOCKED:
        return SendResult(SendOutcome.LOCKED, refusal.retry_at, via=via)
    if refusal.reason is Reason.COOLDOWN:
        return SendResult(SendOutcome.COOLDOWN, refusal.retry_at, via=via)
    audit.record_refusal(
        phone,
        limit=refusal.limit,
        key=refusal.key,
        client_ip=client_ip,
        channel=channel,
        flow=flow,
        now=now,
        retry_at=refusal.retry_at,
    )
    return SendResult(SendOutcome.RATE_LIMITED, refusal.retry_at, limit=refusal.limit, via=via)


def _log_message(record_id: int, delivery: chain.Delivery, now: datetime, via: str, *, automatic: bool = False) -> None:
    """Log the message a provider took for number row `record_id` (the receipts find it by its sid)."""
    message = delivery.message
    SentMessage.objects.create(
        verification_id=record_id,
        sid=message.sid or None,
        status=message.status or SentMessage.Status.SENT,
        sent_at=now,
        provider_seconds=delivery.attempts[-1].seconds,
        provider=delivery.provider,
        failed_over=len(delivery.failovers) > 0,
        via=via,
        automatic=automatic,
    )


def _send_failed(
    phone: str, claim: Claim, client_ip: str | None, channel: Channel, flow: Flow, now: datetime, failure: dict
) -> None:
    """Record a send that never left, and give back all it claimed, so the person may ask again at once."""
    with tracing.span("otp.send.give_back", problem=failure["problem"]), transaction.atomic():
        give_back(claim)
        audit.record(audit.Kind.SEND_FAILED, phone, client_ip=client_ip, channel=channel, flow=flow, now=now, **failure)
        metrics.count(
            metrics.SMS_FAILED,
            problem=failure["problem"].value,
            provider=failure.get("provider", NO_PROVIDER),
            via=failure["via"],
        )


def _store(
    phone: str,
    code: str,
    delivery: chain.Delivery | None,
    claim: Claim,
    client_ip: str | None,
    channel: Channel,
    flow: Flow,
    now: datetime,
    sending: _Sending,
) -> SendResult:
    """Log the message and make its code the number's live code, unless the number got locked meanwhile.

    `delivery` None: the code was withheld (never sent); it goes live all the same, audited as withheld. A code
    the site sent by itself (`sending.automatic`) keeps the browser's challenge: the page that waits for it
    still works.
    """
    # A provider that makes its own code (Twilio Verify) checks it too: the row keeps a marker no typed code
    # hashes to, and who checks it.
    checked_by = delivery.checked_by if delivery is not None else ""
    code_hash = f"{PROVIDER_CODE}{checked_by}" if checked_by else default_code_generator.make_hash(phone, code)
    via = delivery.message.via if delivery is not None else sending.via
    rows = PhoneVerification.objects
    with transaction.atomic():
        record_id = claim.record_id or rows.filter(phone=phone).values_list("pk", flat=True).get()
        kept = rows.filter(pk=record_id).values_list("challenge", flat=True).get() if sending.automatic else ""
        # One conditional UPDATE instead of reading the row first: it matches only if the number is not locked.
        stored = rows.store_code(
            record_id,
            code_hash,
            now,
            claim.cooldown_ends,
            flow,
            checked_by=checked_by,
            via=via,
            language=sending.language,
            challenge=kept,
        )
        if delivery is not None:
            # Logged and counted even if the number got locked meanwhile: the message went out all the same.
            _log_message(record_id, delivery, now, via, automatic=sending.automatic)
            metrics.count(metrics.SMS_SENT, provider=delivery.provider, via=via)
            if sending.automatic:
                metrics.count(metrics.FALLBACKS, via=via)
        if stored is None:
            # Locked by wrong guesses while the message was in flight: the new code must not go live.
            return SendResult(
                SendOutcome.LOCKED, rows.filter(pk=record_id).values_list("locked_until", flat=True).get(), via=via
            )
        kind = audit.Kind.SENT if delivery is not None else audit.Kind.WITHHELD
        audit.record(
            kind,
            phone,
            client_ip=client_ip,
            channel=channel,
            flow=flow,
            now=now,
            provider=delivery.provider if delivery is not None else "",
            via=via,
            automatic=sending.automatic,
            expires_at=stored["code_expires_at"],
        )
        metrics.count(metrics.CODES, flow=flow.value, delivered="yes" if delivery is not None else "withheld")
    return SendResult(
        SendOutcome.SENT,
        claim.cooldown_ends,
        challenge=stored["challenge"],
        expires_at=stored["code_expires_at"],
        via=via,
    )


def take_receipt(sid: str, status: str, error_code: str = "", *, now: datetime) -> receipts.ReceiptOutcome:
    """Record a provider's delivery receipt; with OTP_AUTO_FALLBACK, send an undelivered code once the next way.

    Exactly once per undelivered message, however many times and to however many processes the receipt
    comes: the receipt's conditional UPDATE (receipts.record_receipt) records a final status once, and only
    the request that recorded it sends. The send is a send like any other: one claim of every limit and the
    brake, audited as automatic.
    """
    outcome = receipts.record_receipt(sid, status, error_code, now=now)
    if outcome is receipts.ReceiptOutcome.RECORDED and receipts.normalise(status) in receipts.NOT_DELIVERED:
        if app_settings.auto_fallback:
            fall_back(sid, now)
    return outcome


def next_via(phone: str, after: str) -> str | None:
    """Return the way after `after` in OTP_DELIVERY_METHODS that may reach `phone`, or None."""
    order = list(app_settings.delivery_methods)
    later = order[order.index(after) + 1 :] if after in order else []
    allowed = vias_for(phone)
    return next((via for via in later if via in allowed), None)


def fall_back(sid: str, now: datetime) -> SendResult | None:
    """Send the code of undelivered message `sid` again the next way, if it is still the number's current code."""
    message = SentMessage.objects.select_related("verification").filter(sid=sid).first()
    if message is None:
        return None
    record = message.verification
    if record.last_sent_at != message.sent_at or not record.has_live_code(now):
        # A newer code went out since, or this one was used or expired: nobody waits for it any more.
        return None
    via = next_via(record.phone, message.via)
    if via is None:
        return None
    # The per-session and per-IP limits belong to a client; the site's own send counts against the number's
    # limits, the budget and the brake. It is sent for the flow the undelivered code was sent for, so the page
    # waiting for it (verification, sign-in or second factor) accepts it.
    return send_code(
        record.phone, now, channel="", flow=record.flow, via=via, language=record.last_language, automatic=True
    )


@_traced("otp.check")
def check_code(
    phone: str,
    code: str,
    now: datetime,
    *,
    client_ip: str | None = None,
    challenge: str | None = None,
    user: AbstractBaseUser | None = None,
    channel: Channel = Channel.WEB,
    flow: Flow = Flow.VERIFY,
) -> CheckResult:
    """Check a typed code against the live code of `phone`, counting a wrong one toward the lock.

    With `challenge` (the id the client got when it asked for the code), a code typed in a browser or
    sent by an API client that did not ask for the current code is refused without counting a failure;
    so is a code sent for another `flow` than the one checking it (WRONG_SESSION both).
    A match made by a logged-in `user` is stored for that user (VerifiedPhone) in the same transaction,
    and in the verification flow becomes their sign-in number unless it signs in another account
    (`CheckResult.number_taken`).

    The row is read and the code hashed outside any transaction; the decision is then written in one
    transaction that holds the write lock for a conditional UPDATE and the rows that go with it only. If
    another request changed the row in between, that transaction rolls back and the check runs again with
    the row locked from the start.
    """
    flow = Flow(flow)
    # One read serves the provider's question and the decision; the retry reads the row again, locked.
    record = _number_row(phone)
    # Asked before any transaction: no lock is held while the provider answers.
    verdict = _provider_verdict(record, code, now, challenge, flow)
    args = (phone, code, now, client_ip, challenge, user, channel, flow)
    try:
        result = _check(record, *args, locked=False, verdict=verdict)
    except _RowChanged:
        with transaction.atomic():
            result = _check(_number_row(phone, locked=True), *args, locked=True, verdict=verdict)
    via = result.record.last_via if result.record is not None else Via.SMS
    metrics.count(metrics.CHECKS, outcome=result.outcome.value, via=via)
    metrics.count(metrics.FLOW_CHECKS, flow=flow.value, outcome=result.outcome.value)
    return result


def _number_row(phone: str, *, locked: bool = False) -> PhoneVerification | None:
    """Return the row of `phone` with its latest message's receipt (for the check's answer), locked if asked."""
    rows = receipts.with_latest_sms(PhoneVerification.objects.filter(phone=phone))
    return (rows.select_for_update() if locked else rows).first()


def _provider_verdict(
    record: PhoneVerification | None, code: str, now: datetime, challenge: str | None, flow: Flow
) -> CheckVerdict | None:
    """Ask the provider that checks the live code of `record` (Twilio Verify) about `code`; None if we check it."""
    if record is None or not record.checked_by or record.is_locked(now) or not record.has_live_code(now):
        return None
    if record.flow != flow:
        # A code of another flow is refused without asking: the provider would count the check.
        return None
    if challenge is not None and not constant_time_compare(challenge, record.challenge):
        return None
    backend = chain.checker(record.checked_by)
    if backend is None:
        logger.error("no backend checks codes of provider %s phone=%s", record.checked_by, mask(record.phone))
        return CheckVerdict.UNAVAILABLE
    verdict = backend.check(record.phone, code)
    logger.info("provider check provider=%s verdict=%s phone=%s", record.checked_by, verdict.value, mask(record.phone))
    return verdict


class _RowChanged(Exception):
    """The number's row changed between reading it and writing a check's outcome."""


def _check(
    record: PhoneVerification | None,
    phone: str,
    code: str,
    now: datetime,
    client_ip: str | None,
    challenge: str | None,
    user: AbstractBaseUser | None,
    channel: Channel,
    flow: Flow,
    *,
    locked: bool,
    verdict: CheckVerdict | None = None,
) -> CheckResult:
    """Decide one check on `record`, the number's row as read (locked, when `locked`); raise _RowChanged if the
    row changed after it was read (never when `locked`).

    For a code a provider checks (`record.checked_by`), `verdict` is its answer, asked before.
    """
    if record is None:
        return CheckResult(CheckOutcome.EXPIRED)
    read = record.checked_state()
    lock_ended = record.end_expired_lock(now)
    if record.is_locked(now):
        return CheckResult(CheckOutcome.LOCKED, locked_until=record.locked_until, record=record)
    if not record.has_live_code(now):
        if lock_ended:
            _save_check(record, read, now)
        return CheckResult(CheckOutcome.EXPIRED, record=record)
    if challenge is not None and not constant_time_compare(challenge, record.challenge):
        if lock_ended:
            _save_check(record, read, now)
        logger.info("code from another browser refused phone=%s", mask(phone))
        return CheckResult(CheckOutcome.WRONG_SESSION, record=record)
    if record.flow != flow:
        # A code is good only for what it was sent for: a sign-in code must not verify, nor the reverse.
        if lock_ended:
            _save_check(record, read, now)
        logger.info("code for another flow refused phone=%s flow=%s code_flow=%s", mask(phone), flow, record.flow)
        return CheckResult(CheckOutcome.WRONG_SESSION, record=record)

    if record.checked_by:
        if verdict in (None, CheckVerdict.UNAVAILABLE):
            # The provider could not be asked (or the code changed hands meanwhile): nothing is counted;
            # the code is kept, and the person may try again or ask for a new one.
            return CheckResult(CheckOutcome.EXPIRED, record=record)
        if verdict is CheckVerdict.GONE:
            # The provider has no verification to check any more (expired, too many checks): ours ends too.
            record.kill_code()
            _save_check(record, read, now)
            return CheckResult(CheckOutcome.EXPIRED, record=record)
        matched = verdict is CheckVerdict.APPROVED
    else:
        matched = record.code_matches(code)
    if matched:
        taken = False
        with transaction.atomic(savepoint=False):
            # Before the record is marked: the brake tells a first verification by the state as it was.
            if not test_numbers.is_test_number(phone, now):
                pumping.record_verified(record, now)
            record.mark_verified(now)
            _save_check(record, read, now)
            if user is not None:
                VerifiedPhone.objects.record(user, phone, now)
                if flow is Flow.VERIFY and get_adapter().may_use_phone_sign_in(user):
                    taken = not numbers.set_sign_in_number(user, phone, now)
            audit.record(
                audit.Kind.VERIFIED,
                record,
                client_ip=client_ip,
                channel=channel,
                flow=flow,
                now=now,
                via=record.last_via,
            )
        return CheckResult(CheckOutcome.VERIFIED, record=record, number_taken=taken)

    locked_now = record.register_failure(now)
    attempt = f"{record.failed_attempts}/{app_settings.max_attempts}"
    with transaction.atomic(savepoint=False):
        _save_check(record, read, now)
        audit.record(
            audit.Kind.WRONG_CODE,
            record,
            client_ip=client_ip,
            channel=channel,
            flow=flow,
            now=now,
            via=record.last_via,
            attempt=attempt,
        )
        if locked_now:
            audit.record(
                audit.Kind.LOCKED,
                record,
                client_ip=client_ip,
                channel=channel,
                flow=flow,
                now=now,
                until=record.locked_until,
            )
    if locked_now:
        return CheckResult(CheckOutcome.LOCKED, locked_until=record.locked_until, record=record)
    return CheckResult(CheckOutcome.MISMATCH, attempts_left=record.attempts_left(), record=record)


def _save_check(record: PhoneVerification, read: dict[str, object], now: datetime) -> None:
    """Write what the check changed, in the caller's transaction; raise _RowChanged if the row moved on since `read`."""
    if not record.save_check(read, now):
        raise _RowChanged


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

"""The failover chain: hand a message to the first provider that takes it, skipping those that are down.

A send tries the backends `routes.backends_for` names, in order. It moves on to the next one only when a
provider failed for a reason another provider may not have (SmsProblem.UNAVAILABLE: outage, timeout,
throttling, bad credentials, a 5xx; or COUNTRY_NOT_ALLOWED, a provider's own geographic permissions), never
for the person's own (an invalid number, an opted-out recipient): another provider would only be refused
again, or deliver to someone who said STOP. A backend whose outage breaker is open (limits.outage, one per
backend) is skipped without a call until its probe is due; a backend that cannot deliver the message's
way (`vias`) is skipped too. No provider is tried once SMS_SEND_DEADLINE_SECONDS have passed, and a
provider's own timeout is cut to what is left of it.

The chain is one send for the send policy: services.send_code claims once before it and gives everything
back only if the whole chain fails.

A code another library made (services.relay_code) must reach the person as written: with
`skip_code_makers`, a backend that makes and checks its own code (`checks_codes`, Twilio Verify) is skipped,
as it would deliver a code of its own instead of the one the library checks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.module_loading import import_string

from verification import tracing
from verification.conf import app_settings
from verification.limits import outage
from verification.sms import SmsDeliveryError, SmsMessage, SmsProblem, routes

logger = logging.getLogger(__name__)

#: Problems another provider may not have: the chain moves on after them.
FAILOVER_PROBLEMS = frozenset({SmsProblem.UNAVAILABLE, SmsProblem.COUNTRY_NOT_ALLOWED})


@dataclass
class Attempt:
    """One provider the chain tried (or skipped) for a message."""

    backend: str
    provider: str
    #: None when the provider took the message.
    error: SmsDeliveryError | None = None
    #: Seconds the provider took to answer (0 for a skipped backend).
    seconds: float = 0.0
    #: Why no call was made: "down" (breaker open), "via" (cannot deliver that way), "makes_code" (would send a
    #: code of its own instead of the message's), "deadline"; "" if called.
    skipped: str = ""


@dataclass
class Delivery:
    """What the chain did with one message."""

    message: SmsMessage
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].error is None and not self.attempts[-1].skipped

    @property
    def provider(self) -> str:
        """Who delivered the message ("" if nobody did)."""
        return self.attempts[-1].provider if self.sent else ""

    @property
    def checked_by(self) -> str:
        """The provider that checks the code of this message (Twilio Verify makes its own), or "" for our hash."""
        if not self.sent or not getattr(import_string(self.attempts[-1].backend), "checks_codes", False):
            return ""
        return self.provider

    @property
    def error(self) -> SmsDeliveryError:
        """Why the message was not sent: the last provider's refusal, or UNAVAILABLE if none was called."""
        for attempt in reversed(self.attempts):
            if attempt.error is not None:
                return attempt.error
        return SmsDeliveryError("No SMS provider could be tried")

    @property
    def seconds(self) -> float:
        """Seconds spent calling providers, all attempts together."""
        return sum(attempt.seconds for attempt in self.attempts)

    @property
    def failovers(self) -> list[tuple[str, str]]:
        """(from, to) provider pairs: each time the chain moved on after a failed or skipped provider."""
        tried = [a for a in self.attempts if a.skipped not in ("via", "makes_code")]
        return [(a.provider, b.provider) for a, b in zip(tried, tried[1:], strict=False) if not b.skipped]


def provider_of(backend: str) -> str:
    """Return the `provider` name of a backend (its dotted path's module name if the class has none)."""
    klass = import_string(backend)
    return getattr(klass, "provider", "") or backend.rsplit(".", 2)[-2]


def checker(provider: str):
    """Return a backend instance of `provider` that checks codes (its `check(phone, code)`), or None."""
    from verification.conf import SMS_BACKEND_NAMES

    for backend in (*routes.every_backend(), SMS_BACKEND_NAMES.get(provider, "")):
        if not backend:
            continue
        klass = import_string(backend)
        if getattr(klass, "provider", "") == provider and getattr(klass, "checks_codes", False):
            return klass()
    return None


def makes_code(backend: str) -> bool:
    """Return whether a backend makes and checks its own code (`checks_codes`), ignoring the message's text."""
    return bool(getattr(import_string(backend), "checks_codes", False))


def backends_for(phone: str, *, skip_code_makers: bool = False) -> tuple[str, ...]:
    """Return the backends the chain tries for `phone`, without those that make their own code if asked."""
    backends = routes.backends_for(phone)
    if skip_code_makers:
        backends = tuple(backend for backend in backends if not makes_code(backend))
    return backends


def all_down(phone: str, now: datetime, via: str = "sms", *, skip_code_makers: bool = False) -> bool:
    """Return whether every backend for `phone` that can deliver `via` is down with no probe due: the send would
    call nobody."""
    backends = routes.backends_that_deliver(via, backends_for(phone, skip_code_makers=skip_code_makers))
    return all(outage.is_down(now, backend) for backend in backends)


def deliver(message: SmsMessage, now: datetime, *, skip_code_makers: bool = False) -> Delivery:
    """Send `message` through the first backend for its number that takes it; never raises SmsDeliveryError.

    With `skip_code_makers` (a code another library made, in the message's text), backends that make their own
    code are skipped without a call.
    """
    delivery = Delivery(message)
    via = getattr(message, "via", "sms")
    started = time.perf_counter()
    deadline = app_settings.sms_send_deadline_seconds
    backends = routes.backends_for(message.to)
    for position, backend in enumerate(backends):
        klass = import_string(backend)
        provider = getattr(klass, "provider", "") or backend.rsplit(".", 2)[-2]
        attempt = Attempt(backend, provider)
        delivery.attempts.append(attempt)
        remaining = deadline - (time.perf_counter() - started)
        if not routes.delivers(klass, via):
            attempt.skipped = "via"
            continue
        if skip_code_makers and getattr(klass, "checks_codes", False):
            attempt.skipped = "makes_code"
            continue
        if remaining <= 0:
            attempt.skipped = "deadline"
            logger.warning("sms send deadline passed: %s not tried", provider)
            break
        if not outage.may_call(now, backend):
            attempt.skipped = "down"
            continue
        connection = klass(fail_silently=False)
        if isinstance(getattr(connection, "timeout", None), float | int) and connection.timeout > remaining:
            connection.timeout = remaining
        called = time.perf_counter()
        try:
            # One span per provider the chain calls.
            with tracing.provider_span(provider):
                connection.send_messages([message])
        except SmsDeliveryError as exc:
            attempt.error = exc
        finally:
            attempt.seconds = time.perf_counter() - called
        outage.record_call(
            now, down=attempt.error is not None and attempt.error.problem is SmsProblem.UNAVAILABLE, backend=backend
        )
        if attempt.error is None:
            message.provider = provider
            break
        if attempt.error.problem not in FAILOVER_PROBLEMS:
            break
        if position + 1 < len(backends):
            logger.warning("sms provider %s did not take the message (%s): next provider", provider, attempt.error)
    return delivery

"""Failed sends limited on their own: while the SMS provider is down, stop calling it for every send.

Once OTP_OUTAGE_FAILURES sends in a row failed for want of the provider (a timeout, a refused
connection, a 5xx or a 429), this process lets one send per OTP_OUTAGE_PROBE_INTERVAL try the
provider; the others fail at once with the same "try again" answer, without holding a thread for the
provider's timeout and without writing anything. The first call the provider answers ends the outage,
so nobody waits longer than the outage plus one interval. A refusal about the number itself (invalid,
opted out) is an answer: it proves the provider is up. No key of a person's is involved, so nothing a
client sends can stop anyone else. The state belongs to the process (each worker finds an outage out
with at most OTP_OUTAGE_FAILURES calls of its own) and to each SMS backend (`backend`, its dotted path,
SMS_BACKEND by default): with fallbacks (verification.sms.chain) a dead primary is skipped at once and
the next provider carries the send, until the primary's probe finds it back.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from verification.conf import app_settings

logger = logging.getLogger(__name__)


@dataclass
class _Provider:
    #: Calls in a row that failed for want of the provider.
    failures: int = 0
    #: While it is down: when a send last tried it.
    last_try: datetime | None = None


_providers: dict[str, _Provider] = {}
_lock = threading.Lock()


def is_down(now: datetime, backend: str | None = None) -> bool:
    """Return whether `backend` is down and its probe not due: may_call would say no (this takes no probe)."""
    if app_settings.outage_failures < 1:
        return False
    with _lock:
        provider = _providers.get(backend or app_settings.sms_backend)
        return (
            provider is not None
            and provider.last_try is not None
            and now < provider.last_try + (app_settings.outage_probe_interval)
        )


def may_call(now: datetime, backend: str | None = None) -> bool:
    """Return whether a send may call the provider now: always while it answers, once per interval while down."""
    if app_settings.outage_failures < 1:
        return True
    with _lock:
        provider = _providers.get(backend or app_settings.sms_backend)
        if provider is None or provider.last_try is None:
            return True
        if now < provider.last_try + app_settings.outage_probe_interval:
            return False
        provider.last_try = now
        return True


def record_call(now: datetime, *, down: bool, backend: str | None = None) -> None:
    """Note how a call to the provider went: `down` when it failed for want of the provider, else it answered."""
    threshold = app_settings.outage_failures
    if threshold < 1:
        return
    with _lock:
        backend = backend or app_settings.sms_backend
        provider = _providers.setdefault(backend, _Provider())
        if not down:
            if provider.last_try is not None:
                logger.warning("sms provider answers again: sends resume backend=%s", backend)
            provider.failures, provider.last_try = 0, None
            return
        provider.failures += 1
        if provider.failures == threshold:
            provider.last_try = now
            logger.error(
                "sms provider down: %d sends in a row failed; until it answers, one send per %ds tries it "
                "and the others fail at once (or go to the next provider) backend=%s",
                threshold,
                app_settings.outage_probe_interval.total_seconds(),
                backend,
            )


def forget() -> None:
    """Forget every outage seen by this process, as a freshly started worker would."""
    with _lock:
        _providers.clear()

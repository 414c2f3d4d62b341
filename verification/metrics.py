"""Prometheus metrics: what the app counts, and the view that hands the counts to a scraper holding the token.

Counters go up where an outcome is decided, once its transaction has committed, so a rolled-back send or check
is never counted. Under several worker processes (gunicorn), prometheus_client's multiprocess mode keeps each
worker's counts in files under PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py makes and cleans it) and the view sums
them, so whichever worker answers a scrape reports the site's totals. Labels carry outcomes only, never a number
or a code.
"""

from __future__ import annotations

import os

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from verification.conf import LIMIT_ATTRIBUTES, app_settings
from verification.outcomes import BotChallengeOutcome, CheckOutcome, SendOutcome

SMS_SENT = Counter(
    "otp_sms_sent",
    "Codes a provider accepted, by provider and way (via: sms, call, whatsapp); the name predates calls.",
    ["provider", "via"],
)
SMS_FAILED = Counter(
    "otp_sms_failed",
    "Sends a provider did not accept, by problem, provider and way (one per provider that failed; "
    "provider none: every provider was down and none was called).",
    ["problem", "provider", "via"],
)
SMS_FAILOVERS = Counter(
    "otp_sms_failovers", "Sends that moved on from one SMS provider to the next, by provider.", ["from", "to"]
)
RECEIPTS = Counter(
    "otp_receipts", "Final delivery receipts, by way and status (delivered, undelivered, failed).", ["via", "status"]
)
FALLBACKS = Counter(
    "otp_auto_fallbacks", "Codes the site sent again another way by itself (OTP_AUTO_FALLBACK), by way.", ["via"]
)
CHECKS = Counter("otp_checks", "Codes typed in and checked, by outcome and the way the code went.", ["outcome", "via"])
CODES = Counter(
    "otp_codes",
    "Codes made live, by flow (verify, sign_in, second_factor) and whether they were sent (yes) or withheld from "
    "a number that signs in no account (withheld).",
    ["flow", "delivered"],
)
FLOW_CHECKS = Counter("otp_flow_checks", "Codes typed in and checked, by flow and outcome.", ["flow", "outcome"])
SIGN_INS = Counter("otp_sign_ins", "Logins completed by a code, by flow (sign_in, second_factor).", ["flow"])
SEND_REFUSALS = Counter(
    "otp_send_refusals", "Sends the send policy refused, by the limit or rule that refused.", ["limit"]
)
RELAYED = Counter(
    "otp_relayed_codes",
    "Codes made by another library (source: allauth, two_factor) that the app was asked to deliver, by result.",
    ["source", "result"],
)
BOT_CHALLENGES = Counter(
    "otp_bot_challenges",
    "Sends screened by the bot challenge, by outcome: passed, failed, unreachable (provider) or not_needed.",
    ["outcome"],
)
PUMPING_PAUSES = Counter("otp_pumping_pauses", "Times the SMS-pumping brake paused sends to a number range.")
PROVIDER_SECONDS = Histogram(
    "otp_sms_provider_seconds",
    "Seconds an SMS provider took to answer a send, accepted or not, by provider.",
    ["provider"],
    # Twilio answers in a few hundred milliseconds; the last buckets catch TWILIO_TIMEOUT_SECONDS (10 s by default).
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def count(counter: Counter, **labels: str) -> None:
    """Add one to `counter` (with `labels`) when the current transaction commits, at once outside of one."""
    child = counter.labels(**labels) if labels else counter
    transaction.on_commit(child.inc)


def declare_labels() -> None:
    """Create every known label value at zero, so a scrape shows each series before its first event."""
    from verification.limits.refusal import Reason
    from verification.models import Flow, VerificationEvent
    from verification.sms import SmsProblem
    from verification.sms.chain import provider_of
    from verification.sms.routes import every_backend
    from verification.vias import ALL as VIAS

    try:
        providers = [provider_of(backend) for backend in every_backend()]
    except (ImportError, ValueError, TypeError):
        providers = []  # the system checks report a backend that cannot load
    for via in VIAS:
        FALLBACKS.labels(via=via)
        for provider in providers:
            SMS_SENT.labels(provider=provider, via=via)
            for problem in SmsProblem:
                SMS_FAILED.labels(problem=problem.value, provider=provider, via=via)
        for outcome in CheckOutcome:
            CHECKS.labels(outcome=outcome.value, via=via)
        for status in ("delivered", "undelivered", "failed"):
            RECEIPTS.labels(via=via, status=status)
    for outcome in CheckOutcome:
        for flow in Flow:
            FLOW_CHECKS.labels(flow=flow.value, outcome=outcome.value)
    for flow in Flow:
        CODES.labels(flow=flow.value, delivered="yes")
    CODES.labels(flow=Flow.SIGN_IN.value, delivered="withheld")
    for flow in (Flow.SIGN_IN, Flow.SECOND_FACTOR):
        SIGN_INS.labels(flow=flow.value)
    for outcome in BotChallengeOutcome:
        BOT_CHALLENGES.labels(outcome=outcome.value)
    # A send limit is named by its scope (number, ip, session, budget), any other refusal by its reason.
    for limit in [*LIMIT_ATTRIBUTES, *(reason.value for reason in Reason if reason is not Reason.LIMIT)]:
        SEND_REFUSALS.labels(limit=limit)
    for source in (VerificationEvent.Channel.ALLAUTH, VerificationEvent.Channel.TWO_FACTOR):
        for outcome in SendOutcome:
            RELAYED.labels(source=source.value, result=outcome.value)


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # A fresh registry each time: the collector reads every worker's files at scrape time.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Serve the metrics in Prometheus' text format to `Authorization: Bearer <OTP_METRICS_TOKEN>`; else 404."""
    token = app_settings.metrics_token
    # 404, not 401: without the token nothing tells a prober that metrics exist here.
    if not token or not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
